// Reply addresses and Message-IDs a desk signs, and what it makes of addresses and references.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Anchors } from '../../src/tickets/anchors.ts';
import { DeskError, parseDesk, parseDesks } from '../../src/tickets/desk.ts';
import { replySubject } from '../../src/tickets/outgoing.ts';

const KEY = 'a-ticket-key-of-at-least-thirty-two-characters';
const OLD = 'an-older-ticket-key-of-at-least-thirty-two-chars';
const support = parseDesk('support.example?prefix=SUPPORT&first=7100');
const sales = parseDesk('sales.example');

describe('ticket anchors', () => {
  const anchors = new Anchors([support, sales], [KEY]);

  it('signs reply addresses so that only ours verify', () => {
    const addr = anchors.replyAddress(support, 7102);
    assert.match(addr, /^SUPPORT-7102\+[a-z2-7]{12}@support\.example$/);
    assert.deepEqual(anchors.classify(addr), { kind: 'ticket', desk: support, number: 7102, signed: true });
    assert.deepEqual(anchors.classify(addr.toUpperCase()), {
      kind: 'ticket',
      desk: support,
      number: 7102,
      signed: true,
    });
    // The token of one ticket does not open another.
    const other = addr.replace('7102', '7103');
    assert.equal(anchors.classify(other)?.kind, 'forged');
    assert.deepEqual(anchors.classify('SUPPORT-7102@support.example'), {
      kind: 'ticket',
      desk: support,
      number: 7102,
      signed: false,
    });
    assert.deepEqual(anchors.classify('new@Support.Example'), { kind: 'intake', desk: support });
    assert.equal(anchors.classify('someone@support.example'), null);
    assert.equal(anchors.classify('SALES-1@support.example'), null, 'another desk prefix');
    assert.equal(anchors.classify('SUPPORT-0@support.example'), null);
    assert.equal(anchors.classify('new@elsewhere.example'), null);
  });

  it('makes Message-IDs it can verify later, and refuses altered or foreign ones', () => {
    const id = anchors.messageId(support, 7102);
    assert.match(id, /^<SUPPORT-7102\.[a-z2-7]{10}\.[a-z2-7]{16}@support\.example>$/);
    assert.deepEqual(anchors.verifyMessageId(id), { desk: support, number: 7102 });
    assert.deepEqual(anchors.verifyMessageId(id.slice(1, -1)), { desk: support, number: 7102 });
    assert.equal(anchors.verifyMessageId(id.replace('7102', '7103')), null);
    assert.equal(anchors.verifyMessageId(id.replace('support.example', 'sales.example')), null);
    assert.equal(anchors.verifyMessageId('<SUPPORT-7102.aaaaaaaaaa.aaaaaaaaaaaaaaaa@support.example>'), null);
    assert.equal(anchors.verifyMessageId('<random@mail.example>'), null);
    // Seeded ones repeat (a retried send keeps its Message-ID); unseeded ones do not.
    assert.equal(anchors.messageId(support, 1, 'seed'), anchors.messageId(support, 1, 'seed'));
    assert.notEqual(anchors.messageId(support, 1), anchors.messageId(support, 1));
  });

  it('verifies with every key and signs with the first, so a key can be rotated', () => {
    const before = new Anchors([support], [OLD]);
    const during = new Anchors([support], [KEY, OLD]);
    const id = before.messageId(support, 5);
    const addr = before.replyAddress(support, 5);
    assert.deepEqual(during.verifyMessageId(id), { desk: support, number: 5 });
    assert.equal(during.classify(addr)?.kind, 'ticket');
    assert.equal(new Anchors([support], [KEY]).verifyMessageId(id), null, 'dropped keys stop verifying');
  });
});

describe('desk settings', () => {
  it('reads a desk and its defaults', () => {
    assert.deepEqual(
      {
        name: sales.name,
        intake: sales.intake,
        prefix: sales.prefix,
        first: sales.firstNumber,
        ack: sales.acknowledge,
      },
      { name: 'sales.example', intake: 'new', prefix: 'SALES', first: 1, ack: false },
    );
    const d = parseDesk('Help.Example?intake=Tickets&ack=on&ack-per-hour=2&from-name=Help%20Desk&name=help');
    assert.equal(d.domain, 'help.example');
    assert.equal(d.intake, 'tickets');
    assert.equal(d.acknowledge, true);
    assert.equal(d.acknowledgementsPerHour, 2);
    assert.equal(d.fromName, 'Help Desk');
    assert.equal(d.name, 'help');
  });

  it('refuses what would not work, naming it', () => {
    for (const [value, why] of [
      ['not a domain', /not a domain name/],
      ['a.example?colour=red', /unknown option "colour"/],
      ['a.example?prefix=1X', /prefix/],
      ['a.example?intake=a@b', /intake/],
      ['a.example?intake=a-1&prefix=A', /cannot look like a ticket address/],
      ['a.example?first=0', /first must be a whole number of at least 1/],
      ['a.example?ack=maybe', /ack must be on or off/],
    ] as const) {
      assert.throws(
        () => parseDesk(value),
        (e: Error) => e instanceof DeskError && why.test(e.message),
        value,
      );
    }
    assert.throws(
      () => parseDesks(['a.example', 'a.example?prefix=B']),
      /two desks have the domain a\.example/,
    );
    // Keys are found across desks: one prefix names one desk.
    assert.throws(() => parseDesks(['a.example', 'b.example?prefix=A']), /two desks have the prefix A\b/);
    assert.equal(parseDesks(['a.example?prefix=A', 'b.example?prefix=B']).length, 2);
  });

  it('writes one RE: before the original subject, whatever prefixes it had', () => {
    assert.equal(replySubject("I can't login!"), "RE: I can't login!");
    assert.equal(replySubject("Re: RE: Fwd: I can't login!"), "RE: I can't login!");
    assert.equal(replySubject('AW: SV: Antw: Frage'), 'RE: Frage');
    assert.equal(replySubject('Re[2]: Question'), 'RE: Question');
    assert.equal(replySubject('Line\r\nbreak'), 'RE: Line break');
  });
});
