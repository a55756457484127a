// The storage contract for search, tags and retention: the same assertions on SQLite and
// PostgreSQL, with queries written in Mailpit's syntax and parsed by the real parser.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Address, ParsedMessage, SpoolEntry } from '../../src/domain/message.ts';
import { parseSearch } from '../../src/search/query.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { spoolEntry } from '../helpers/fixtures.ts';

interface Mail {
  subject: string;
  from?: Address;
  to?: Address[];
  text?: string;
  headers?: [string, string][];
  attachments?: number;
  receivedAt?: string;
  tags?: string[];
}

function parsedOf(m: Mail): ParsedMessage {
  return {
    messageId: `${m.subject.replace(/\W+/g, '-')}@example.test`,
    subject: m.subject,
    date: null,
    from: m.from ?? { Name: 'Sender', Address: 'sender@example.test' },
    to: m.to ?? [{ Name: '', Address: 'rcpt@example.test' }],
    cc: [],
    bcc: [],
    replyTo: [],
    returnPath: '',
    text: m.text ?? '',
    html: '',
    snippet: '',
    attachments: Array.from({ length: m.attachments ?? 0 }, (_, i) => ({
      PartID: String(i + 2),
      FileName: `invoice-${i}.pdf`,
      ContentType: 'application/pdf',
      ContentID: '',
      Size: 10,
      Checksums: { MD5: '', SHA1: '', SHA256: '' },
    })),
    inline: [],
    listUnsubscribe: { header: '', links: [], post: '', errors: '' },
    headers: m.headers ?? [],
  };
}

for (const backend of BACKENDS) {
  describe(`search, tags and retention: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    const ids = new Map<string, string>();

    before(async () => {
      ({ storage, cleanup } = await backend.create());
    });
    after(async () => {
      await cleanup();
    });

    async function store(mails: Mail[]): Promise<void> {
      const entries: SpoolEntry[] = mails.map((m) =>
        spoolEntry(m.subject, m.receivedAt ? { receivedAt: m.receivedAt } : {}),
      );
      await storage.appendSpool(entries);
      await storage.saveParsed(
        entries.map((e, i) => ({
          id: e.id,
          result: { ok: true, parsed: parsedOf(mails[i]!) },
          tags: mails[i]!.tags,
        })),
      );
      for (const [i, e] of entries.entries()) ids.set(mails[i]!.subject, e.id);
    }

    async function subjects(query: string): Promise<string[]> {
      const r = await storage.list({ start: 0, limit: 100, query: parseSearch(query, { timeZone: 'UTC' }) });
      assert.equal(r.matched, r.messages.length);
      return r.messages.map((m) => m.subject).sort();
    }

    beforeEach(async () => {
      await storage.delete('all');
      ids.clear();
      await store([
        {
          subject: 'Your order confirmation',
          from: { Name: 'Shop', Address: 'orders@shop.example' },
          text: 'Thank you for ordering 3 items. Delivery on Monday.',
          headers: [
            ['x-campaign', 'spring sale 2026'],
            ['x-mailer', 'ShopMailer'],
          ],
          receivedAt: '2026-03-01T10:00:00.000Z',
          tags: ['Orders'],
        },
        {
          subject: 'Réinitialiser le mot de passe',
          from: { Name: 'Équipe Sécurité', Address: 'securite@example.fr' },
          text: 'Cliquez ici pour réinitialiser. Ελληνικά κείμενο.',
          headers: [['x-campaign', 'autumn']],
          receivedAt: '2026-06-15T12:00:00.000Z',
        },
        {
          subject: 'Invoice attached',
          to: [{ Name: 'Ann', Address: 'ann+billing@example.test' }],
          text: 'Please find the invoice attached.',
          attachments: 2,
          receivedAt: '2026-09-01T08:00:00.000Z',
          tags: ['billing', 'Orders'],
        },
      ]);
    });

    it('finds free text by word prefix through the full-text index', async () => {
      assert.deepEqual(await subjects('confirm'), ['Your order confirmation']);
      assert.deepEqual(await subjects('deliv monday'), ['Your order confirmation']);
      assert.deepEqual(await subjects('nothing-like-this'), []);
      // Attachment file names are indexed too.
      assert.deepEqual(await subjects('invoice-1'), ['Invoice attached']);
    });

    it('combines several text, field and header terms with flags, tags and negations', async () => {
      // Each positive text/field/header term narrows the candidates; the rest filter them.
      assert.deepEqual(await subjects('thank from:shop header:x-mailer:shop'), ['Your order confirmation']);
      assert.deepEqual(await subjects('thank from:shop -tag:orders'), []);
      assert.deepEqual(await subjects('subject:e -has:attachment -tag:orders'), [
        'Réinitialiser le mot de passe',
      ]);
      assert.deepEqual(await subjects('subject:e tag:orders -header:x-campaign:spring'), [
        'Invoice attached',
      ]);
      assert.deepEqual(await subjects('please invoice -from:shop is:unread larger:1'), ['Invoice attached']);
      // Phrases and words together, with and without field terms: every one must hold.
      assert.deepEqual(await subjects('"find the" invoice to:ann'), ['Invoice attached']);
      assert.deepEqual(await subjects('"find the" thank'), []);
      assert.deepEqual(await subjects('"find the" to:ann subject:order'), []);
      assert.deepEqual(await subjects('thank from:securite'), []);
      // A page past the matches still reports how many matched.
      const r = await storage.list({ start: 5, limit: 10, query: parseSearch('subject:e -tag:billing') });
      assert.equal(r.matched, 2);
      assert.equal(r.matchedUnread, 2);
      assert.deepEqual(r.messages, []);
    });

    it('matches phrases as adjacent words only', async () => {
      assert.deepEqual(await subjects('"thank you for ordering"'), ['Your order confirmation']);
      assert.deepEqual(await subjects('"ordering you"'), []);
      // Two words, present and not.
      assert.deepEqual(await subjects('"THANK you"'), ['Your order confirmation']);
      assert.deepEqual(await subjects('"thank ordering"'), []);
      assert.deepEqual(await subjects('"items delivery"'), ['Your order confirmation'], 'across a full stop');
      assert.ok(!(await subjects('-"thank you"')).includes('Your order confirmation'), 'negated');
      // Every adjacent pair of "red green blue" is in this text, but never the three in one run.
      await store([{ subject: 'Colours', text: 'red green, then green blue.' }]);
      assert.deepEqual(await subjects('"red green blue"'), []);
      assert.deepEqual(await subjects('"green blue"'), ['Colours']);
    });

    it('is Unicode case- and accent-insensitive', async () => {
      assert.deepEqual(await subjects('REINITIALISER'), ['Réinitialiser le mot de passe']);
      assert.deepEqual(await subjects('ΕΛΛΗΝΙΚΆ'), ['Réinitialiser le mot de passe']);
      assert.deepEqual(await subjects('from:équipe'), ['Réinitialiser le mot de passe']);
      assert.deepEqual(await subjects('subject:"MOT DE PASSE"'), ['Réinitialiser le mot de passe']);
    });

    it('searches address fields, subject and message-id by substring', async () => {
      assert.deepEqual(await subjects('from:shop.example'), ['Your order confirmation']);
      assert.deepEqual(await subjects('to:ann+billing'), ['Invoice attached']);
      assert.deepEqual(await subjects('addressed:securite@'), ['Réinitialiser le mot de passe']);
      assert.deepEqual(await subjects('message-id:invoice-attached'), ['Invoice attached']);
      assert.deepEqual(await subjects('subject:100%'), []);
    });

    it('searches custom headers', async () => {
      assert.deepEqual(await subjects('header:X-Campaign:spring'), ['Your order confirmation']);
      assert.deepEqual(await subjects('header:X-Campaign'), [
        'Réinitialiser le mot de passe',
        'Your order confirmation',
      ]);
      assert.deepEqual(await subjects('header:x-mailer:autumn'), []);
      assert.deepEqual(await subjects('-header:X-Campaign'), ['Invoice attached']);
    });

    it('filters by tag, read state, attachments, dates and sizes, with negation', async () => {
      assert.deepEqual(await subjects('tag:orders'), ['Invoice attached', 'Your order confirmation']);
      assert.deepEqual(await subjects('-tag:Orders'), ['Réinitialiser le mot de passe']);
      assert.deepEqual(await subjects('is:tagged -tag:billing'), ['Your order confirmation']);
      assert.deepEqual(await subjects('has:attachment'), ['Invoice attached']);
      assert.deepEqual(await subjects('after:2026-06-01 before:2026-08-01'), [
        'Réinitialiser le mot de passe',
      ]);
      assert.deepEqual(await subjects('-before:2026-06-01'), [
        'Invoice attached',
        'Réinitialiser le mot de passe',
      ]);
      assert.deepEqual(await subjects('after:2030-01-01'), []);
      assert.deepEqual(await subjects('-after:2030-01-01 before:2026-03-02'), ['Your order confirmation']);
      assert.deepEqual(await subjects('larger:1'), (await subjects('')).slice());
      assert.deepEqual(await subjects('smaller:1'), []);
      await storage.setRead([ids.get('Invoice attached')!], true);
      assert.deepEqual(await subjects('is:read'), ['Invoice attached']);
      assert.deepEqual(await subjects('!is:read tag:orders'), ['Your order confirmation']);
      assert.deepEqual(await subjects('-is:unread'), ['Invoice attached']);
      assert.deepEqual(await subjects('is:unread'), [
        'Réinitialiser le mot de passe',
        'Your order confirmation',
      ]);
      assert.deepEqual(await subjects('-is:read'), await subjects('is:unread'));
    });

    it('counts a read-state search exactly, whatever page is asked for', async () => {
      await storage.setRead([ids.get('Invoice attached')!], true);
      const count = async (query: string, start: number) => {
        const r = await storage.list({ start, limit: 1, query: parseSearch(query) });
        return { matched: r.matched, unread: r.matchedUnread, total: r.total, page: r.messages.length };
      };
      assert.deepEqual(await count('is:unread', 0), { matched: 2, unread: 2, total: 3, page: 1 });
      assert.deepEqual(await count('is:unread', 1), { matched: 2, unread: 2, total: 3, page: 1 });
      assert.deepEqual(await count('is:unread', 2), { matched: 2, unread: 2, total: 3, page: 0 });
      assert.deepEqual(await count('is:read', 0), { matched: 1, unread: 0, total: 3, page: 1 });
      assert.deepEqual(await count('-is:read', 0), { matched: 2, unread: 2, total: 3, page: 1 });
      assert.deepEqual(await count('-is:unread', 0), { matched: 1, unread: 0, total: 3, page: 1 });
    });

    it('reports matched and unread counts beside the mailbox totals', async () => {
      const r = await storage.list({ start: 0, limit: 1, query: parseSearch('tag:orders') });
      assert.equal(r.total, 3);
      assert.equal(r.matched, 2);
      assert.equal(r.matchedUnread, 2);
      assert.equal(r.messages.length, 1);
    });

    it('deletes and marks read by search', async () => {
      const orders = (await storage.list({ start: 0, limit: 10, query: parseSearch('tag:orders') })).messages;
      const marked = await storage.setRead({ query: parseSearch('tag:orders') }, true);
      assert.deepEqual(marked.sort(), orders.map((m) => m.id).sort());
      assert.deepEqual(await storage.setRead({ query: parseSearch('tag:orders') }, true), []);
      const gone = await storage.delete({ query: parseSearch('has:attachment') });
      assert.deepEqual(gone, [ids.get('Invoice attached')]);
      assert.deepEqual(await subjects('invoice'), []);
      assert.equal((await storage.list({ start: 0, limit: 10 })).total, 2);
    });

    it('keeps tags on messages, one per case-insensitive name, and lists their counts', async () => {
      const tags = await storage.tagCounts();
      assert.deepEqual(tags, [
        { name: 'billing', messages: 1 },
        { name: 'Orders', messages: 2 },
      ]);
      const invoice = (await storage.get(ids.get('Invoice attached')!))!;
      assert.deepEqual(invoice.tags, ['billing', 'Orders']);
    });

    it('sets, renames and deletes tags', async () => {
      const a = ids.get('Your order confirmation')!;
      const changed = await storage.setTags([a], ['Urgent', 'urgent', 'bad,tag', 'Follow up']);
      assert.deepEqual(changed.get(a), ['Follow up', 'Urgent']);
      assert.deepEqual((await storage.setTags([a], ['Urgent', 'Follow up'])).size, 0);
      assert.equal(await storage.renameTag('Urgent', 'Later'), 'renamed');
      assert.equal(await storage.renameTag('Nope', 'Other'), 'not-found');
      assert.equal(await storage.renameTag('Later', 'ORDERS'), 'exists');
      assert.equal(await storage.renameTag('Later', 'LATER'), 'renamed');
      assert.deepEqual((await storage.get(a))!.tags, ['Follow up', 'LATER']);
      assert.deepEqual(await subjects('tag:later'), ['Your order confirmation']);
      assert.equal(await storage.deleteTag('LATER'), true);
      assert.equal(await storage.deleteTag('LATER'), false);
      assert.deepEqual((await storage.get(a))!.tags, ['Follow up']);
      // Orders was removed from this message by setTags; unused tags disappear from the list.
      assert.deepEqual(await storage.tags(), ['billing', 'Follow up', 'Orders']);
    });

    it('prunes the oldest messages by count, age and total size', async () => {
      const now = Date.parse('2026-10-01T00:00:00.000Z');
      assert.equal(await storage.prune({ maxMessages: 0, maxAgeMs: 0, maxBytes: 0, now }), 0);
      assert.equal(await storage.prune({ maxMessages: 2, maxAgeMs: 0, maxBytes: 0, now }), 1);
      assert.deepEqual(await subjects(''), ['Invoice attached', 'Réinitialiser le mot de passe']);
      // 100 days before `now` falls between the two remaining messages.
      assert.equal(await storage.prune({ maxMessages: 0, maxAgeMs: 100 * 86_400_000, maxBytes: 0, now }), 1);
      assert.deepEqual(await subjects(''), ['Invoice attached']);
      const size = (await storage.list({ start: 0, limit: 1 })).messages[0]!.size;
      await store([{ subject: 'Newest' }]);
      assert.equal(await storage.prune({ maxMessages: 0, maxAgeMs: 0, maxBytes: size, now }), 1);
      assert.deepEqual(await subjects(''), ['Newest']);
      // Pruned messages leave nothing behind in the index or the tag list.
      assert.deepEqual(await subjects('invoice'), []);
      assert.deepEqual(await storage.tags(), []);
    });
  });
}
