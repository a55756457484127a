// Signed attachment download URLs: what is signed, what a changed URL gets, when a URL expires,
// and which settings make URLs at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTACHMENT_PATH,
  attachmentUrl,
  attachmentUrlsFromConfig,
  verifyAttachmentUrl,
} from '../../src/actions/webhook/attachment-url.ts';
import { ConfigError } from '../../src/config/load.ts';

const NOW = Date.UTC(2026, 2, 1, 9, 30, 0);
const DAY = 86_400_000;
const SETTINGS = { baseUrl: 'https://mail.example.com', secret: 's'.repeat(40), lifetimeMs: 7 * DAY };
const MESSAGE = 'Abcdefghij0123456789XY';

/** The parts of a URL the download route reads. */
function parts(url: string) {
  const u = new URL(url);
  const [, , , , , messageId, partId] = u.pathname.split('/');
  return {
    path: u.pathname,
    messageId: decodeURIComponent(messageId ?? ''),
    partId: decodeURIComponent(partId ?? ''),
    expires: u.searchParams.get('expires') ?? undefined,
    sig: u.searchParams.get('sig') ?? undefined,
  };
}

describe('attachment URLs', () => {
  const url = attachmentUrl(SETTINGS, MESSAGE, '2.1', NOW);
  const p = parts(url);

  it('names the message and part under the public URL, with expiry and a base64url signature', () => {
    assert.equal(p.path, `${ATTACHMENT_PATH}/${MESSAGE}/2.1`);
    assert.ok(url.startsWith(`https://mail.example.com${ATTACHMENT_PATH}/`));
    assert.equal(p.expires, String((NOW + 7 * DAY) / 1000));
    assert.match(p.sig ?? '', /^[A-Za-z0-9_-]{43}$/);
    // The same inputs sign the same; a different part, message or clock signs differently.
    assert.equal(attachmentUrl(SETTINGS, MESSAGE, '2.1', NOW), url);
    assert.notEqual(parts(attachmentUrl(SETTINGS, MESSAGE, '2.2', NOW)).sig, p.sig);
    assert.notEqual(parts(attachmentUrl(SETTINGS, MESSAGE, '2.1', NOW + 1000)).sig, p.sig);
  });

  it('verifies until it expires, then says expired', () => {
    assert.deepEqual(verifyAttachmentUrl(SETTINGS.secret, p, NOW), { ok: true });
    assert.deepEqual(verifyAttachmentUrl(SETTINGS.secret, p, NOW + 7 * DAY - 1), { ok: true });
    assert.deepEqual(verifyAttachmentUrl(SETTINGS.secret, p, NOW + 7 * DAY), {
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses a URL changed in any part, or checked with another key', () => {
    const mismatch = { ok: false, reason: 'mismatch' };
    const check = (over: Partial<typeof p>, secret = SETTINGS.secret) =>
      verifyAttachmentUrl(secret, { ...p, ...over }, NOW);
    assert.deepEqual(check({ partId: '2.2' }), mismatch);
    assert.deepEqual(check({ messageId: 'Bbcdefghij0123456789XY' }), mismatch);
    // A later expiry is the obvious forgery: it must not verify.
    assert.deepEqual(check({ expires: String(Number(p.expires) + 86_400) }), mismatch);
    const sig = p.sig ?? '';
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    assert.deepEqual(check({ sig: flipped }), mismatch);
    assert.deepEqual(check({}, 't'.repeat(40)), mismatch);
    // A second spelling of the same bytes (the last character's unused bits) is refused too.
    const last = sig.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${sig.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`;
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(sig, 'base64url'));
    assert.deepEqual(check({ sig: twin }), mismatch);
  });

  it('refuses missing or malformed parameters', () => {
    const malformed = { ok: false, reason: 'malformed' };
    for (const over of [
      { expires: undefined },
      { sig: undefined },
      { expires: '1e12' },
      { expires: '-1' },
      { expires: '1234567890123' },
      { sig: `${p.sig}=` },
      { sig: 'short' },
    ]) {
      assert.deepEqual(
        verifyAttachmentUrl(SETTINGS.secret, { ...p, ...over }, NOW),
        malformed,
        JSON.stringify(over),
      );
    }
  });
});

describe('attachment URL settings', () => {
  const config = { publicUrl: '', attachmentUrlSecret: '', attachmentUrlLifetime: 7 * DAY };

  it('makes URLs only with both a public URL and a key, and says which is missing', () => {
    assert.deepEqual(attachmentUrlsFromConfig(config), {
      baseUrl: null,
      secret: null,
      lifetimeMs: 7 * DAY,
      unavailable: 'no download URL: --public-url and --attachment-url-secret not set on the server',
    });
    const urlOnly = attachmentUrlsFromConfig({ ...config, publicUrl: 'https://mail.example.com/mr/' });
    assert.equal(urlOnly.baseUrl, 'https://mail.example.com/mr');
    assert.equal(urlOnly.unavailable, 'no download URL: --attachment-url-secret not set on the server');
    const both = attachmentUrlsFromConfig({
      ...config,
      publicUrl: 'https://mail.example.com',
      attachmentUrlSecret: 'k'.repeat(32),
    });
    assert.equal(both.unavailable, null);
    assert.equal(both.secret, 'k'.repeat(32));
  });

  it('refuses a short key and a public URL that is not a plain http(s) base', () => {
    assert.throws(
      () => attachmentUrlsFromConfig({ ...config, attachmentUrlSecret: 'k'.repeat(31) }),
      ConfigError,
    );
    for (const publicUrl of [
      'mail.example.com',
      'ftp://mail.example.com',
      'https://u:p@mail.example.com',
      'https://m.example/?a=1',
    ]) {
      assert.throws(() => attachmentUrlsFromConfig({ ...config, publicUrl }), ConfigError, publicUrl);
    }
  });
});
