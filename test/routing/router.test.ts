// Route evaluation: order, stop, captures, every condition kind, and the time budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, Route, RouteAction } from '../../src/domain/route.ts';
import type { RoutingMessage } from '../../src/routing/conditions.ts';
import { globMatch } from '../../src/routing/glob.ts';
import { RouteError, Router } from '../../src/routing/router.ts';

const NOW = '2026-11-24T10:00:00.000Z';

function route(id: string, conditions: Condition[], over: Partial<Route> = {}): Route {
  const actions: RouteAction[] = [{ type: 'store', tags: [id] }];
  return {
    id,
    name: id,
    priority: 10,
    enabled: true,
    match: 'all',
    conditions,
    actions,
    source: 'api',
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  };
}

function message(over: Partial<RoutingMessage> = {}): RoutingMessage {
  return {
    mailFrom: 'nic@ferrier.test',
    rcptTo: ['info@support.example', 'Support-7102@support.example'],
    from: 'nic@ferrier.test',
    subject: "I can't login!",
    text: 'Hello,\nthe login page says error 42.\n',
    headers: [
      ['from', 'Nic <nic@ferrier.test>'],
      ['x-priority', '1 (Highest)'],
      ['subject', "I can't login!"],
    ],
    attachments: [{ filename: 'Screenshot 1.PNG', contentType: 'image/png', size: 2048 }],
    size: 4096,
    spamScore: 1.5,
    auth: { spf: 'pass', dkim: ['fail', 'pass'], dmarc: 'pass', arc: 'none' },
    ...over,
  };
}

const matched = (r: Router, m: RoutingMessage) =>
  r
    .evaluate(m)
    .verdicts.filter((v) => v.matched)
    .map((v) => v.routeId);

describe('router', () => {
  it('evaluates in priority order and stops where a matching route says stop', () => {
    const r = new Router(
      [
        route('late', [], { priority: 30 }),
        route('first', [{ field: 'subject', op: 'contains', value: 'LOGIN' }], {
          priority: 1,
          actions: [{ type: 'store', tags: [] }, { type: 'stop' }],
        }),
        route('second', [], { priority: 20 }),
        route('off', [], { priority: 5, enabled: false }),
      ],
      { budgetMs: 1000 },
    );
    const e = r.evaluate(message());
    assert.deepEqual(
      e.verdicts.map((v) => [v.routeId, v.matched]),
      [
        ['first', true],
        ['off', false],
        ['second', false],
        ['late', false],
      ],
    );
    assert.equal(e.stoppedBy, 'first');
    assert.match(e.verdicts[1]!.reason, /disabled/);
    assert.match(e.verdicts[2]!.reason, /route first stopped/);
    // Without the match, stop does not apply.
    assert.deepEqual(matched(r, message({ subject: 'hello' })), ['second', 'late']);
  });

  it('captures named groups of a recipient pattern, with the recipient it matched', () => {
    const r = new Router(
      [route('ticket', [{ field: 'recipient', op: 'regex', value: '^support-(?<ticket>\\d+)@' }])],
      { budgetMs: 1000 },
    );
    const v = r.evaluate(message()).verdicts[0]!;
    assert.equal(v.matched, true);
    assert.deepEqual(v.captures, { ticket: '7102' });
    assert.equal(v.recipient, 'Support-7102@support.example');
    const miss = r.evaluate(message({ rcptTo: ['info@support.example'] })).verdicts[0]!;
    assert.equal(miss.matched, false);
    assert.deepEqual(miss.captures, {});
    assert.match(miss.reason, /recipient regex .* did not hold/);
  });

  it('tests every kind of condition, ignoring case, and negations', () => {
    const cases: [Condition, boolean][] = [
      [{ field: 'recipient', op: 'glob', value: '*@SUPPORT.example' }, true],
      [{ field: 'recipient', op: 'equals', value: 'nobody@support.example' }, false],
      [{ field: 'sender', op: 'glob', value: '*@ferrier.test' }, true],
      [{ field: 'from', op: 'equals', value: 'NIC@ferrier.test' }, true],
      [{ field: 'subject', op: 'glob', value: "i can't*" }, true],
      [{ field: 'body', op: 'regex', value: 'error (?<code>\\d+)' }, true],
      [{ field: 'body', op: 'contains', value: 'password' }, false],
      [{ field: 'header', name: 'X-Priority', op: 'exists' }, true],
      [{ field: 'header', name: 'X-Priority', op: 'glob', value: '1 *' }, true],
      [{ field: 'header', name: 'X-Mailer', op: 'exists' }, false],
      [{ field: 'attachment', op: 'exists' }, true],
      [{ field: 'attachment', on: 'filename', op: 'glob', value: '*.png' }, true],
      [{ field: 'attachment', on: 'content-type', op: 'equals', value: 'application/pdf' }, false],
      [{ field: 'size', op: 'gt', value: 4000 }, true],
      [{ field: 'size', op: 'lte', value: 4000 }, false],
      [{ field: 'spam-score', op: 'gte', value: 5 }, false],
      [{ field: 'spam-score', op: 'lt', value: 5 }, true],
      [{ field: 'auth', check: 'dmarc', op: 'equals', value: 'PASS' }, true],
      [{ field: 'auth', check: 'dkim', op: 'equals', value: 'pass' }, true],
      [{ field: 'auth', check: 'spf', op: 'equals', value: 'fail' }, false],
      [{ field: 'subject', op: 'contains', value: 'login', negate: true }, false],
      [{ field: 'subject', op: 'contains', value: 'invoice', negate: true }, true],
    ];
    for (const [c, want] of cases) {
      const r = new Router([route('r', [c])], { budgetMs: 1000 });
      assert.equal(r.evaluate(message()).verdicts[0]!.matched, want, JSON.stringify(c));
    }
    // No score and no authentication: such conditions cannot hold.
    const bare = message({ spamScore: null, auth: null });
    for (const c of [
      { field: 'spam-score', op: 'lt', value: 5 },
      { field: 'auth', check: 'dmarc', op: 'equals', value: 'none' },
    ] as Condition[]) {
      assert.equal(
        new Router([route('r', [c])], { budgetMs: 1000 }).evaluate(bare).verdicts[0]!.matched,
        false,
      );
    }
  });

  it('matches any condition when asked to, and says which held', () => {
    const r = new Router(
      [
        route(
          'any',
          [
            { field: 'subject', op: 'contains', value: 'invoice' },
            { field: 'header', name: 'x-priority', op: 'contains', value: 'highest' },
          ],
          { match: 'any' },
        ),
      ],
      { budgetMs: 1000 },
    );
    const v = r.evaluate(message()).verdicts[0]!;
    assert.equal(v.matched, true);
    assert.match(v.reason, /header x-priority contains "highest" held/);
    assert.match(r.evaluate(message({ headers: [] })).verdicts[0]!.reason, /none of its 2 conditions held/);
  });

  it('refuses a route whose regular expression does not compile, naming it', () => {
    assert.throws(
      () =>
        new Router([route('bad', [{ field: 'subject', op: 'regex', value: '(unclosed' }])], {
          budgetMs: 1000,
        }),
      (err: unknown) => err instanceof RouteError && err.routeId === 'bad' && /invalid/.test(err.message),
    );
  });

  it('stops a catastrophic regular expression at the budget and goes on with the next route', () => {
    const r = new Router(
      [
        route('evil', [{ field: 'subject', op: 'regex', value: '^(a+)+$' }], { priority: 1 }),
        route('after', [{ field: 'sender', op: 'glob', value: '*@ferrier.test' }], { priority: 2 }),
      ],
      { budgetMs: 50 },
    );
    const e = r.evaluate(message({ subject: `${'a'.repeat(40)}!` }));
    assert.deepEqual(
      e.verdicts.map((v) => [v.routeId, v.matched, v.timedOut]),
      [
        ['evil', false, true],
        ['after', true, false],
      ],
    );
    assert.match(e.verdicts[0]!.reason, /50 ms budget/);
    // The router stays usable.
    assert.deepEqual(matched(r, message({ subject: 'aaaa' })), ['evil', 'after']);
  });
});

describe('router at RCPT time', () => {
  const reject = (code: number): RouteAction => ({ type: 'reject', code, text: `no ${code}` });
  it('refuses by the first envelope route that holds, unless a route before it stopped', () => {
    const r = new Router(
      [
        route('vip', [{ field: 'sender', op: 'equals', value: 'boss@spam.test' }], {
          priority: 1,
          actions: [{ type: 'store', tags: [] }, { type: 'stop' }],
        }),
        route('spam', [{ field: 'sender', op: 'glob', value: '*@spam.test' }], {
          priority: 2,
          actions: [reject(550)],
        }),
        route('busy', [{ field: 'recipient', op: 'glob', value: 'busy@*' }], {
          priority: 3,
          actions: [reject(451)],
        }),
        route(
          'content',
          [
            { field: 'subject', op: 'contains', value: 'x' },
            { field: 'recipient', op: 'glob', value: 'sales@*' },
          ],
          {
            priority: 4,
            actions: [reject(550)],
          },
        ),
      ],
      { budgetMs: 1000 },
    );
    assert.deepEqual(r.envelope('ann@spam.test', 'sales@x.example'), {
      kind: 'reject',
      routeId: 'spam',
      code: 550,
      text: 'no 550',
    });
    assert.deepEqual(r.envelope('boss@spam.test', 'sales@x.example'), { kind: 'accept' });
    assert.deepEqual(r.envelope('ann@ok.test', 'busy@x.example'), {
      kind: 'reject',
      routeId: 'busy',
      code: 451,
      text: 'no 451',
    });
    // A reject that depends on content is left for after DATA; the recipient is known by it.
    assert.deepEqual(r.envelope('ann@ok.test', 'sales@x.example'), { kind: 'accept' });
    assert.deepEqual(r.envelope('ann@ok.test', 'nobody@x.example'), { kind: 'unknown' });
  });

  it('counts a route with no recipient condition as a catch-all, and takes the mail when undecided in time', () => {
    const all = new Router([route('all', [{ field: 'subject', op: 'contains', value: 'x' }])], {
      budgetMs: 1000,
    });
    assert.deepEqual(all.envelope('', 'anyone@x.example'), { kind: 'accept' });
    // A route that only refuses content takes no address.
    const refuser = new Router(
      [route('no-exe', [{ field: 'subject', op: 'contains', value: 'x' }], { actions: [reject(550)] })],
      { budgetMs: 1000 },
    );
    assert.deepEqual(refuser.envelope('', 'anyone@x.example'), { kind: 'unknown' });
    const slow = new Router(
      [route('evil', [{ field: 'recipient', op: 'regex', value: '^(a+)+$' }], { actions: [reject(550)] })],
      {
        budgetMs: 50,
      },
    );
    assert.deepEqual(slow.envelope('', `${'a'.repeat(40)}!`), { kind: 'accept' });
    assert.deepEqual(new Router([], { budgetMs: 50 }).envelope('', 'a@b.example'), { kind: 'unknown' });
  });
});

describe('glob', () => {
  it('matches * and ? over the whole text, ignoring case', () => {
    assert.equal(globMatch('*@example.com', 'Ann@EXAMPLE.com'), true);
    assert.equal(globMatch('*@example.com', 'ann@example.com.evil'), false);
    assert.equal(globMatch('a?c', 'abc'), true);
    assert.equal(globMatch('a?c', 'ac'), false);
    assert.equal(globMatch('**', ''), true);
    assert.equal(globMatch('a*b*c', 'axxbyyc'), true);
    assert.equal(globMatch('a*b*c', 'axxbyy'), false);
  });

  it('stays polynomial on patterns that make backtracking matchers explode', () => {
    const text = 'a'.repeat(20_000);
    assert.equal(globMatch('*a*a*a*a*a*a*b', text), false);
  });
});
