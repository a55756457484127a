// SRS: forwarded mail's envelope sender is rewritten at our domain, and only addresses we made,
// within their age, reverse to the original sender.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SRS_MAX_AGE_DAYS, srsForward, srsReverse } from '../../src/outbound/srs.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-24T10:00:00.000Z');
const OPTS = { domain: 'fwd.example', secrets: ['current-secret'], now: NOW };
const REV = { secrets: ['current-secret'], now: NOW };

describe('srsForward', () => {
  it('writes SRS0=HHHH=TT=domain=local at the forward domain', () => {
    const a = srsForward('ann@origin.example', OPTS);
    const m = /^SRS0=([A-Z2-7]{4})=([A-Z2-7]{2})=origin\.example=ann@fwd\.example$/.exec(a);
    assert.ok(m, a);
    // The stamp is the day number modulo 1024 in two base32 characters.
    const day = Math.floor(NOW / DAY) % 1024;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    assert.equal(m[2], alphabet[day >> 5]! + alphabet[day & 31]!);
    // The hash: HMAC-SHA256 over the lower-cased fields, first 20 bits in base32.
    const mac = createHmac('sha256', 'current-secret')
      .update(`${m[2]}=origin.example=ann`.toLowerCase())
      .digest();
    const bits = ((mac[0]! << 16) | (mac[1]! << 8) | mac[2]!) >>> 4;
    const want = [15, 10, 5, 0].map((s) => alphabet[(bits >>> s) & 31]).join('');
    assert.equal(m[1], want);
  });

  it('keeps the null sender null and our own domain as it is', () => {
    assert.equal(srsForward('', OPTS), '');
    assert.equal(srsForward('bob@FWD.example', OPTS), 'bob@FWD.example');
  });

  it('signs with the first secret only', () => {
    const a = srsForward('ann@origin.example', { ...OPTS, secrets: ['new', 'old'] });
    assert.equal(a, srsForward('ann@origin.example', { ...OPTS, secrets: ['new'] }));
    assert.notEqual(a, srsForward('ann@origin.example', { ...OPTS, secrets: ['old'] }));
  });

  it('turns another forwarder SRS0 address into SRS1 pointing at that forwarder', () => {
    const theirs = srsForward('ann@origin.example', {
      ...OPTS,
      domain: 'first.example',
      secrets: ['theirs'],
    });
    const ours = srsForward(theirs, OPTS);
    const local = theirs.slice(0, theirs.indexOf('@'));
    assert.match(ours, /^SRS1=[A-Z2-7]{4}=first\.example==/);
    assert.ok(ours.endsWith(`=${local.slice(5)}@fwd.example`), ours);
    // Forwarded again by a third forwarder: still points at the first one.
    const third = srsForward(ours, { ...OPTS, domain: 'third.example', secrets: ['third'] });
    assert.match(third, /^SRS1=[A-Z2-7]{4}=first\.example==.*@third\.example$/);
    assert.deepEqual(srsReverse(third, { secrets: ['third'], now: NOW }), { ok: true, original: theirs });
  });

  it('refuses what it cannot rewrite', () => {
    assert.throws(() => srsForward('ann@origin.example', { ...OPTS, secrets: [] }), /secret/);
    assert.throws(() => srsForward('no-domain', OPTS), /no domain/);
    assert.throws(() => srsForward('"a b"@origin.example', OPTS), /quoted/);
  });
});

describe('srsReverse', () => {
  const addr = srsForward('Ann.Lee+tag@Origin.example', OPTS);

  it('gives back the original sender', () => {
    assert.deepEqual(srsReverse(addr, REV), { ok: true, original: 'Ann.Lee+tag@Origin.example' });
    assert.deepEqual(srsReverse('', REV), { ok: true, original: '' });
  });

  it('verifies without regard to case', () => {
    const lower = srsReverse(addr.toLowerCase(), REV);
    assert.deepEqual(lower, { ok: true, original: 'ann.lee+tag@origin.example' });
    assert.equal(srsReverse(addr.toUpperCase(), REV).ok, true);
  });

  it('verifies with any of the secrets, so keys can rotate', () => {
    assert.equal(srsReverse(addr, { ...REV, secrets: ['newer', 'current-secret'] }).ok, true);
    const wrong = srsReverse(addr, { ...REV, secrets: ['another'] });
    assert.deepEqual(wrong, { ok: false, reason: 'the SRS hash does not verify' });
  });

  it('refuses a tampered address', () => {
    const forged = addr.replace('Origin.example', 'victim.example');
    assert.equal(srsReverse(forged, REV).ok, false);
    const flipped = addr.replace(/^SRS0=(.)/, (_, c: string) => `SRS0=${c === 'A' ? 'B' : 'A'}`);
    assert.equal(srsReverse(flipped, REV).ok, false);
  });

  it('accepts addresses up to maxAgeDays old, and not older', () => {
    const at = (days: number) => ({ ...REV, now: NOW + days * DAY });
    assert.equal(srsReverse(addr, at(SRS_MAX_AGE_DAYS)).ok, true);
    const old = srsReverse(addr, at(SRS_MAX_AGE_DAYS + 1));
    assert.equal(old.ok, false);
    assert.match((old as { reason: string }).reason, /22 days old/);
    assert.equal(srsReverse(addr, { ...at(3), maxAgeDays: 2 }).ok, false);
    // A stamp from tomorrow (a skewed clock) counts as very old.
    assert.equal(srsReverse(addr, at(-1)).ok, false);
  });

  it('counts days across the wrap of the 1024-day stamp', () => {
    const beforeWrap = (Math.ceil(NOW / DAY / 1024) * 1024 - 1) * DAY + 3_600_000;
    const a = srsForward('ann@origin.example', { ...OPTS, now: beforeWrap });
    assert.match(a, /^SRS0=[A-Z2-7]{4}=77=/);
    assert.equal(srsReverse(a, { ...REV, now: beforeWrap + 2 * DAY }).ok, true);
  });

  it('reverses our SRS1 addresses to the first forwarder SRS0 address', () => {
    const theirs = 'SRS0=ABCD=XY=origin.example=ann@first.example';
    const ours = srsForward(theirs, OPTS);
    assert.deepEqual(srsReverse(ours, REV), { ok: true, original: theirs });
    assert.equal(srsReverse(ours, { ...REV, secrets: ['x'] }).ok, false);
  });

  it('accepts + and - after the SRS0 tag, as the convention allows', () => {
    assert.equal(srsReverse(addr.replace(/^SRS0=/, 'SRS0+'), REV).ok, true);
    assert.equal(srsReverse(addr.replace(/^SRS0=/, 'srs0-'), REV).ok, true);
  });

  it('says what is wrong with addresses that are not ours', () => {
    assert.deepEqual(srsReverse('ann@origin.example', REV), { ok: false, reason: 'not an SRS address' });
    assert.equal(srsReverse('SRS0=abcd@fwd.example', REV).ok, false);
    assert.deepEqual(srsReverse('SRS0=ABCD=1!=d=l@fwd.example', REV), {
      ok: false,
      reason: 'a malformed SRS0 time stamp',
    });
    assert.equal(srsReverse(addr, { ...REV, secrets: [] }).ok, false);
  });
});
