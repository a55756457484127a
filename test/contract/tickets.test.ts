// The support desk's storage contract: ticket numbers, duplicates, entries, agent updates, lists,
// held messages, the event log and its feeds, the same assertions against SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import type { NewTicketEntry, NewTicketEvent } from '../../src/domain/ticket.ts';
import type { Storage } from '../../src/storage/ports.ts';
import type { OpenTicket, TicketPatch, TicketQuery } from '../../src/storage/ticket-ports.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const LEASE = 60_000;

function entry(over: Partial<NewTicketEntry> = {}): NewTicketEntry {
  return {
    id: newMessageId(),
    kind: 'customer',
    messageId: newMessageId(),
    outboundId: null,
    headerMessageId: `${newMessageId()}@mail.example`,
    from: 'Ann@Example.org',
    fromName: 'Ann Example',
    to: ['support@desk.example'],
    cc: [],
    subject: 'Printer on fire',
    text: 'The printer is on fire.\n\n> quoted\n',
    strippedText: 'The printer is on fire.',
    html: null,
    attachments: [],
    author: null,
    note: null,
    ...over,
  };
}

/** Each test opens tickets on desks of its own (its own key prefix), so tests share one store. */
function deskNamed(name: string) {
  const prefix = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return (
    over: Partial<OpenTicket> = {},
    eventData: Record<string, unknown> = { via: 'mail' },
  ): OpenTicket => {
    const id = over.id ?? newMessageId();
    return {
      id,
      desk: `${name}.example`,
      keyPrefix: prefix,
      firstNumber: 7100,
      subject: 'Printer on fire',
      requester: 'ann@example.org',
      requesterName: 'Ann Example',
      participants: ['Ann@Example.org', 'ann@example.org', ' CC@Example.org '],
      tags: [],
      entry: entry(),
      references: '<earlier@example.org>',
      raw: null,
      now: at(0),
      events: [{ id: `${id}:created`, type: 'ticket:created', ticketId: id, data: eventData }],
      ...over,
    };
  };
}

for (const backend of BACKENDS) {
  describe(`tickets contract: ${backend.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    before(async () => {
      const made = await backend.create();
      storage = made.storage;
      cleanup = made.cleanup;
    });
    after(() => cleanup());

    const opened = async (req: OpenTicket) => {
      const r = await storage.tickets.open(req);
      assert.equal(r.outcome, 'opened');
      return r;
    };

    it('numbers tickets per desk from its first number, and records the created event with key and number', async () => {
      const one = deskNamed('numbers-one');
      const two = deskNamed('numbers-two');
      const first = await opened(one());
      assert.equal(first.ticket.number, 7100);
      assert.equal(first.ticket.key, 'NUMBERSONE-7100');
      assert.equal((await opened(two({ firstNumber: 1 }))).ticket.number, 1);
      assert.equal((await opened(one({ firstNumber: 50 }))).ticket.number, 7101, 'first number used once');
      assert.equal((await opened(two({ firstNumber: 1 }))).ticket.number, 2);
      assert.equal((await opened(one())).ticket.key, 'NUMBERSONE-7102');

      const t = first.ticket;
      assert.equal(t.state, 'open');
      assert.deepEqual(t.participants, ['ann@example.org', 'cc@example.org']);
      assert.equal(t.assignee, null);
      assert.equal(t.entryCount, 1);
      assert.equal(t.createdAt, at(0));
      assert.equal(t.updatedAt, at(0));
      assert.equal(t.lastCustomerMessageId, first.entry.headerMessageId);
      assert.equal(
        t.lastCustomerReferences,
        '<earlier@example.org>',
        'the References of the first message are kept',
      );
      assert.equal(first.entry.ticketId, t.id);
      assert.equal(first.entry.at, at(0));

      const events = await storage.tickets.events(0, 1000);
      const created = events.find((e) => e.id === `${t.id}:created`);
      assert.equal(created?.type, 'ticket:created');
      assert.equal(created?.ticketId, t.id);
      assert.deepEqual(created?.data, { via: 'mail', key: 'NUMBERSONE-7100', number: 7100 });
      assert.equal(created?.at, at(0));
    });

    it('gives concurrent opens on one desk distinct consecutive numbers', async () => {
      const desk = deskNamed('concurrent');
      const results = await Promise.all(
        Array.from({ length: 20 }, () => storage.tickets.open(desk({ firstNumber: 1 }))),
      );
      const numbers = results.map((r) => r.ticket.number).sort((a, b) => a - b);
      assert.deepEqual(
        numbers,
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.ok(results.every((r) => r.outcome === 'opened'));
      assert.equal(new Set(results.map((r) => r.ticket.key)).size, 20);
    });

    it('finds a duplicate by message or Message-ID within the desk, writes nothing and uses no number', async () => {
      const desk = deskNamed('dupes');
      const first = await opened(desk());
      const seqBefore = await storage.tickets.lastEventSeq();

      const sameMessage = desk({ entry: entry({ messageId: first.entry.messageId }) });
      const byMessage = await storage.tickets.open(sameMessage);
      assert.equal(byMessage.outcome, 'duplicate');
      assert.equal(byMessage.ticket.id, first.ticket.id);
      assert.equal(byMessage.entry.id, first.entry.id);
      assert.equal(await storage.tickets.get(sameMessage.id), null, 'no ticket written');

      const byHeader = await storage.tickets.open(
        desk({ entry: entry({ messageId: null, headerMessageId: first.entry.headerMessageId }) }),
      );
      assert.equal(byHeader.outcome, 'duplicate');
      assert.equal(byHeader.entry.id, first.entry.id);
      assert.equal(await storage.tickets.lastEventSeq(), seqBefore, 'no events recorded');

      const second = await opened(desk());
      assert.equal(second.ticket.number, first.ticket.number + 1, 'duplicates used no number');

      // The same Message-ID appended to another ticket of the desk is the first ticket's entry.
      const appended = await storage.tickets.append({
        ticketId: second.ticket.id,
        entry: entry({ headerMessageId: first.entry.headerMessageId }),
        raw: null,
        change: { state: 'pending' },
        now: at(5),
        events: [],
      });
      assert.equal(appended?.outcome, 'duplicate');
      assert.equal(appended?.ticket.id, first.ticket.id);
      assert.equal(
        (await storage.tickets.get(second.ticket.id))?.state,
        'open',
        'the change was not applied',
      );

      // Another desk may hold the same message.
      const other = deskNamed('dupes-other');
      await opened(other({ entry: entry({ messageId: first.entry.messageId }) }));
    });

    it('appends entries in order and applies the change', async () => {
      const desk = deskNamed('append');
      const { ticket, entry: first } = await opened(desk());
      const reply = entry({
        kind: 'agent',
        messageId: null,
        outboundId: 'out-1',
        from: 'support@desk.example',
        to: ['ann@example.org'],
        author: 'agent@desk.example',
      });
      const agent = await storage.tickets.append({
        ticketId: ticket.id,
        entry: reply,
        raw: null,
        change: { state: 'pending' },
        now: at(1000),
        events: [{ id: `${reply.id}:replied`, type: 'ticket:replied', ticketId: ticket.id, data: { n: 1 } }],
      });
      assert.equal(agent?.outcome, 'appended');
      assert.deepEqual(agent?.entry, { ...reply, ticketId: ticket.id, at: at(1000), hasRaw: false });
      assert.equal(agent?.ticket.state, 'pending');
      assert.equal(agent?.ticket.entryCount, 2);
      assert.equal(agent?.ticket.updatedAt, at(1000));

      const answer = entry({ cc: ['Bob@Example.org'], attachments: [attachment()] });
      const customer = await storage.tickets.append({
        ticketId: ticket.id,
        entry: answer,
        raw: null,
        change: {
          state: 'open',
          addParticipants: ['BOB@example.org', 'ann@example.org', 'bob@example.org'],
          lastCustomerMessageId: answer.headerMessageId!,
          lastCustomerReferences: '<a@x> <b@x>',
        },
        now: at(2000),
        events: [],
      });
      assert.equal(customer?.outcome, 'appended');
      const t = customer!.ticket;
      assert.equal(t.state, 'open');
      assert.deepEqual(t.participants, ['ann@example.org', 'cc@example.org', 'bob@example.org']);
      assert.equal(t.lastCustomerMessageId, answer.headerMessageId);
      assert.equal(t.lastCustomerReferences, '<a@x> <b@x>');
      assert.equal(t.entryCount, 3);
      assert.equal(t.createdAt, at(0));

      const entries = await storage.tickets.entries(ticket.id);
      assert.deepEqual(
        entries.map((e) => e.id),
        [first.id, reply.id, answer.id],
      );
      assert.equal(entries[0]!.kind, 'customer');
      assert.deepEqual(entries[2], { ...answer, ticketId: ticket.id, at: at(2000), hasRaw: false });
      assert.deepEqual(await storage.tickets.entry(reply.id), agent!.entry);
      assert.equal(await storage.tickets.entry('nope'), null);

      const events = await storage.tickets.events(0, 1000);
      assert.ok(events.some((e) => e.id === `${reply.id}:replied` && e.at === at(1000)));
      assert.equal(
        await storage.tickets.append({
          ticketId: 'missing',
          entry: entry(),
          raw: null,
          change: {},
          now: at(3000),
          events: [],
        }),
        null,
      );
    });

    it('records an agent update with its changes, and nothing when nothing changed', async () => {
      const desk = deskNamed('update');
      const { ticket } = await opened(desk());
      const update = (patch: TicketPatch, eventId: string, ms: number) =>
        storage.tickets.update({
          ticketId: ticket.id,
          patch,
          actor: 'agent@desk.example',
          eventId,
          now: at(ms),
        });

      const r = await update(
        {
          state: 'pending',
          assignee: 'agent@desk.example',
          tags: [' vip ', 'vip', '', 'billing'],
          subject: 'Fire!',
        },
        'u1',
        1000,
      );
      assert.deepEqual(r?.changed, ['state', 'assignee', 'tags', 'subject']);
      assert.equal(r?.ticket.state, 'pending');
      assert.equal(r?.ticket.assignee, 'agent@desk.example');
      assert.deepEqual(r?.ticket.tags, ['vip', 'billing']);
      assert.equal(r?.ticket.subject, 'Fire!');
      assert.equal(r?.ticket.updatedAt, at(1000));

      const events = await storage.tickets.events(0, 1000);
      const updated = events.find((e) => e.id === 'u1:updated');
      assert.equal(updated?.type, 'ticket:updated');
      assert.equal(updated?.ticketId, ticket.id);
      assert.deepEqual(updated?.data, {
        key: ticket.key,
        actor: 'agent@desk.example',
        changes: {
          state: { from: 'open', to: 'pending' },
          assignee: { from: null, to: 'agent@desk.example' },
          tags: { from: [], to: ['vip', 'billing'] },
          subject: { from: 'Printer on fire', to: 'Fire!' },
        },
      });
      const status = events.find((e) => e.id === 'u1:status');
      assert.equal(status?.type, 'ticket:status_changed');
      assert.deepEqual(status?.data, {
        key: ticket.key,
        from: 'open',
        to: 'pending',
        actor: 'agent@desk.example',
      });
      assert.ok(updated!.seq < status!.seq);

      const seq = await storage.tickets.lastEventSeq();
      const same = await update(
        { state: 'pending', tags: ['vip', 'billing', 'vip'], subject: 'Fire!' },
        'u2',
        2000,
      );
      assert.deepEqual(same?.changed, []);
      assert.equal(same?.ticket.updatedAt, at(1000), 'nothing written');
      assert.equal(await storage.tickets.lastEventSeq(), seq, 'no events');

      const unassign = await update({ assignee: '' }, 'u3', 3000);
      assert.deepEqual(unassign?.changed, ['assignee']);
      assert.equal(unassign?.ticket.assignee, null);
      const after3 = await storage.tickets.events(seq, 10);
      assert.deepEqual(
        after3.map((e) => e.id),
        ['u3:updated'],
        'no status event without a state change',
      );
      assert.equal(
        await storage.tickets.update({
          ticketId: 'missing',
          patch: {},
          actor: null,
          eventId: 'x',
          now: at(0),
        }),
        null,
      );
    });

    it('gets a ticket by id, by key without case, and by desk and number', async () => {
      const desk = deskNamed('lookup');
      const { ticket } = await opened(desk());
      assert.deepEqual(await storage.tickets.get(ticket.id), ticket);
      assert.deepEqual(await storage.tickets.get(ticket.key.toLowerCase()), ticket);
      assert.deepEqual(await storage.tickets.get('Lookup-7100'), ticket);
      assert.equal(await storage.tickets.get('LOOKUP-7101'), null);
      assert.deepEqual(await storage.tickets.byNumber('lookup.example', 7100), ticket);
      assert.equal(await storage.tickets.byNumber('lookup.example', 7101), null);
      assert.equal(await storage.tickets.byNumber('other.example', 7100), null);
    });

    it('lists with filters combined, text search over tickets and entries, a total and pages', async () => {
      const desk = deskNamed('list');
      const d = 'list.example';
      const a = await opened(desk({ subject: 'Invoice 100% wrong', now: at(1000), tags: ['billing'] }));
      const b = await opened(desk({ subject: 'Login broken', now: at(2000), tags: ['vip', 'auth'] }));
      const c = await opened(
        desk({ subject: 'Refund request', requester: 'Zed@Zoo.example', now: at(3000) }),
      );
      await storage.tickets.update({
        ticketId: b.ticket.id,
        patch: { state: 'pending', assignee: 'eve' },
        actor: 'eve',
        eventId: 'list-b',
        now: at(4000),
      });
      await storage.tickets.append({
        ticketId: a.ticket.id,
        entry: entry({ text: 'Also the PRÜFUNG_CODE is missing', subject: 'Re: Invoice' }),
        raw: null,
        change: {},
        now: at(5000),
        events: [],
      });
      const ids = async (q: Partial<TicketQuery>) => {
        const r = await storage.tickets.list({ desk: d, start: 0, limit: 50, ...q });
        return { ids: r.tickets.map((t) => t.id), total: r.total };
      };
      const [A, B, C] = [a.ticket.id, b.ticket.id, c.ticket.id];
      assert.deepEqual(await ids({}), { ids: [A, B, C], total: 3 }, 'most recently updated first');
      assert.deepEqual(await ids({ states: ['pending', 'solved'] }), { ids: [B], total: 1 });
      assert.deepEqual(await ids({ states: ['open'] }), { ids: [A, C], total: 2 });
      assert.deepEqual(await ids({ assignee: '' }), { ids: [A, C], total: 2 });
      assert.deepEqual(await ids({ assignee: 'eve' }), { ids: [B], total: 1 });
      assert.deepEqual(await ids({ tag: 'vip' }), { ids: [B], total: 1 });
      assert.deepEqual(await ids({ tag: 'vip', states: ['open'] }), { ids: [], total: 0 });
      assert.deepEqual(await ids({ text: 'login' }), { ids: [B], total: 1 }, 'subject, without case');
      assert.deepEqual(await ids({ text: 'zed@zoo' }), { ids: [C], total: 1 }, 'requester');
      assert.deepEqual(await ids({ text: c.ticket.key.toLowerCase() }), { ids: [C], total: 1 }, 'key');
      assert.deepEqual(await ids({ text: 'prüfung_code invoice' }), { ids: [A], total: 1 }, 'an entry');
      assert.deepEqual(await ids({ text: 'fire' }), { ids: [A, B, C], total: 3 }, 'the first entry');
      assert.deepEqual(await ids({ text: 'invoice login' }), { ids: [], total: 0 }, 'every word');
      assert.deepEqual(await ids({ text: '100%' }), { ids: [A], total: 1 });
      assert.deepEqual(await ids({ text: '1%0' }), { ids: [], total: 0 }, '% is no wildcard');
      assert.deepEqual(await ids({ text: 'prüfung_' }), { ids: [A], total: 1 });
      assert.deepEqual(await ids({ text: 'missin_' }), { ids: [], total: 0 }, '_ is no wildcard');

      const page = await storage.tickets.list({ desk: d, start: 1, limit: 1 });
      assert.deepEqual(
        page.tickets.map((t) => t.id),
        [B],
      );
      assert.equal(page.total, 3);
      const all = await storage.tickets.list({ start: 0, limit: 1000 });
      assert.ok(all.total >= 3 && all.tickets.some((t) => t.id === A));
    });

    it('counts entries by ticket, sender and recipient, kinds and time, without case', async () => {
      const desk = deskNamed('count');
      const { ticket } = await opened(desk({ entry: entry({ from: 'Counter@Example.org' }), now: at(0) }));
      const add = (e: Partial<NewTicketEntry>, ms: number) =>
        storage.tickets.append({
          ticketId: ticket.id,
          entry: entry(e),
          raw: null,
          change: {},
          now: at(ms),
          events: [],
        });
      await add(
        {
          kind: 'acknowledgement',
          messageId: null,
          from: 'support@count.example',
          to: ['COUNTER@example.org'],
        },
        1000,
      );
      await add({ from: 'counter@EXAMPLE.org' }, 2000);
      await add({ kind: 'automatic', from: 'counter@example.org' }, 3000);
      const other = await opened(desk({ entry: entry({ from: 'counter@example.org' }), now: at(4000) }));

      const count = (q: Partial<Parameters<Storage['tickets']['countEntries']>[0]>) =>
        storage.tickets.countEntries({ kinds: ['customer'], since: at(0), ...q });
      assert.equal(await count({ from: 'COUNTER@example.ORG' }), 3);
      assert.equal(await count({ from: 'counter@example.org', ticketId: ticket.id }), 2);
      assert.equal(await count({ from: 'counter@example.org', since: at(2000) }), 2);
      assert.equal(await count({ from: 'counter@example.org', since: at(2001) }), 1);
      assert.equal(await count({ from: 'counter@example.org', kinds: ['customer', 'automatic'] }), 4);
      assert.equal(await count({ from: 'counter@example.org', kinds: [] }), 0);
      assert.equal(await count({ to: 'counter@example.org', kinds: ['acknowledgement'] }), 1);
      assert.equal(
        await count({ to: 'Counter@Example.org', kinds: ['acknowledgement'], since: at(1001) }),
        0,
      );
      assert.equal(await count({ ticketId: other.ticket.id }), 1);
      assert.equal(
        await count({ ticketId: ticket.id, kinds: ['customer', 'automatic', 'acknowledgement'] }),
        4,
      );
    });

    it('holds a message once per desk, lists unresolved first and newest first, and resolves it once', async () => {
      const d = 'held.example';
      const hold = (messageId: string, ms: number, desk = d, reason = 'stranger') =>
        storage.tickets.hold(
          { messageId, desk, ticketId: null, reason, from: 'x@stranger.example', subject: 'Hi', at: at(ms) },
          {
            id: `held:${desk}:${messageId}:${reason}`,
            type: 'ticket:held',
            ticketId: null,
            data: { messageId },
          },
        );
      const seq = await storage.tickets.lastEventSeq();
      await hold('m1', 1000);
      await hold('m1', 5000, d, 'another reason');
      const m1 = await storage.tickets.heldMessage('m1', d);
      assert.deepEqual(m1, {
        messageId: 'm1',
        desk: d,
        ticketId: null,
        reason: 'stranger',
        from: 'x@stranger.example',
        subject: 'Hi',
        at: at(1000),
        resolution: null,
        resolvedAt: null,
      });
      const events = await storage.tickets.events(seq, 100);
      assert.deepEqual(
        events.map((e) => [e.id, e.type, e.at]),
        [[`held:${d}:m1:stranger`, 'ticket:held', at(1000)]],
        'holding it again records nothing',
      );
      await hold('m1', 1500, 'held-other.example');
      await hold('m2', 2000);
      await hold('m3', 3000);
      assert.equal(
        await storage.tickets.resolveHeld({
          messageId: 'm3',
          desk: d,
          resolution: 'dismissed',
          now: at(9000),
        }),
        true,
      );
      assert.equal(
        await storage.tickets.resolveHeld({ messageId: 'm3', desk: d, resolution: 'again', now: at(9500) }),
        false,
      );
      assert.equal(
        await storage.tickets.resolveHeld({ messageId: 'nope', desk: d, resolution: 'x', now: at(9500) }),
        false,
      );
      const m3 = await storage.tickets.heldMessage('m3', d);
      assert.equal(m3?.resolution, 'dismissed');
      assert.equal(m3?.resolvedAt, at(9000));

      const list = (q: object) =>
        storage.tickets.held({ desk: d, unresolvedOnly: false, start: 0, limit: 10, ...q });
      assert.deepEqual(
        (await list({})).map((h) => h.messageId),
        ['m2', 'm1', 'm3'],
      );
      assert.deepEqual(
        (await list({ unresolvedOnly: true })).map((h) => h.messageId),
        ['m2', 'm1'],
      );
      assert.deepEqual(
        (await list({ start: 1, limit: 1 })).map((h) => h.messageId),
        ['m1'],
      );
      const everyDesk = await storage.tickets.held({ unresolvedOnly: true, start: 0, limit: 10 });
      assert.deepEqual(
        everyDesk.map((h) => `${h.desk}/${h.messageId}`),
        [`${d}/m2`, `held-other.example/m1`, `${d}/m1`],
      );
      assert.equal(await storage.tickets.heldMessage('m1', 'nowhere.example'), null);
    });

    it('returns events in commit order after a seq, skips known ids, and reports the last seq', async () => {
      const desk = deskNamed('events');
      const start = await storage.tickets.lastEventSeq();
      const event = (id: string): NewTicketEvent => ({
        id,
        type: 'ticket:replied',
        ticketId: null,
        data: { id },
      });
      const a = await opened(desk({ events: [event('ev-a1'), event('ev-a2')] }));
      await storage.tickets.append({
        ticketId: a.ticket.id,
        entry: entry(),
        raw: null,
        change: {},
        now: at(10),
        events: [event('ev-a1'), event('ev-b')],
      });
      const after = await storage.tickets.events(start, 100);
      assert.deepEqual(
        after.map((e) => e.id),
        ['ev-a1', 'ev-a2', 'ev-b'],
      );
      assert.deepEqual(after[0]?.data, { id: 'ev-a1', key: a.ticket.key, number: a.ticket.number });
      assert.ok(after[0]!.seq > start && after[0]!.seq < after[1]!.seq && after[1]!.seq < after[2]!.seq);
      assert.equal(await storage.tickets.lastEventSeq(), after[2]!.seq);
      assert.deepEqual(
        (await storage.tickets.events(after[0]!.seq, 1)).map((e) => e.id),
        ['ev-a2'],
      );
      assert.deepEqual(await storage.tickets.events(after[2]!.seq, 10), []);
    });

    it('leases a feed to one owner at a time and refuses to advance a lost lease', async () => {
      const take = (owner: string, ms: number, startSeq = 5) =>
        storage.tickets.takeFeed({
          name: 'https://hooks.example/t',
          owner,
          now: at(ms),
          leaseMs: LEASE,
          startSeq,
        });
      const advance = (owner: string, seq: number, ms: number) =>
        storage.tickets.advanceFeed({
          name: 'https://hooks.example/t',
          owner,
          seq,
          now: at(ms),
          leaseMs: LEASE,
        });
      assert.equal(await take('a', 0), 5, 'a new feed starts at startSeq');
      assert.equal(await take('b', 1000), null, 'leased to a');
      assert.equal(await advance('b', 7, 1000), false);
      assert.equal(await take('a', 2000, 99), 5, 'the same owner renews; startSeq is for new feeds');
      assert.equal(await advance('a', 9, 3000), true);
      assert.equal(await take('b', 3000 + LEASE - 1), null, 'advancing renewed the lease');
      assert.equal(await take('b', 3000 + LEASE), 9, 'after the lease ran out');
      assert.equal(await advance('a', 12, 3000 + LEASE + 1), false, 'a lost the lease');
      assert.equal(await advance('b', 12, 3000 + LEASE + 1), true);
      assert.equal(await take('c', 3000 + 3 * LEASE), 12);
      assert.equal(
        await storage.tickets.takeFeed({
          name: 'other',
          owner: 'a',
          now: at(0),
          leaseMs: LEASE,
          startSeq: 0,
        }),
        0,
      );
    });

    it('keeps the exact bytes of an entry, and says which entries have them', async () => {
      const desk = deskNamed('raw');
      const bytes = new Uint8Array(300);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 256;
      const { ticket, entry: first } = await opened(desk({ raw: bytes }));
      assert.equal(bytes.byteLength, 300, "the caller's buffer is left intact");
      assert.equal(first.hasRaw, true);
      const raw = await storage.tickets.entryRaw(first.id);
      assert.deepEqual(raw && new Uint8Array(raw), bytes);

      const note = entry({
        kind: 'note',
        messageId: null,
        headerMessageId: null,
        author: 'eve',
        note: 'call her',
      });
      const appended = await storage.tickets.append({
        ticketId: ticket.id,
        entry: note,
        raw: null,
        change: {},
        now: at(1),
        events: [],
      });
      assert.equal(appended?.entry.hasRaw, false);
      assert.equal(await storage.tickets.entryRaw(note.id), null);
      const withRaw = entry();
      const small = new TextEncoder().encode('Subject: x\r\n\r\n\u00e9\r\n');
      await storage.tickets.append({
        ticketId: ticket.id,
        entry: withRaw,
        raw: small,
        change: {},
        now: at(2),
        events: [],
      });
      const back = await storage.tickets.entryRaw(withRaw.id);
      assert.deepEqual(back && new Uint8Array(back), small);
      assert.deepEqual(
        (await storage.tickets.entries(ticket.id)).map((e) => e.hasRaw),
        [true, false, true],
      );
    });
  });
}

function attachment() {
  return {
    partId: '2',
    filename: 'photo.jpg',
    contentType: 'image/jpeg',
    size: 1234,
    inline: true,
    contentId: 'photo@x',
  };
}
