// How --inbox values are read and which inbox a message is filed in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InboxBook, InboxError, inboxOf, parseInbox } from '../../src/domain/inbox.ts';

describe('inboxes', () => {
  it('reads users and recipient patterns, keeping a + in an address', () => {
    assert.deepEqual(parseInbox('team-a?users=alice&users=ci%20bot&recipients=qa+a-*@Example.com'), {
      name: 'team-a',
      users: ['alice', 'ci bot'],
      recipients: ['qa+a-*@example.com'],
    });
    assert.deepEqual(parseInbox('solo'), { name: 'solo', users: [], recipients: [] });
  });

  it('refuses bad names, the default name, unknown options and patterns without @', () => {
    for (const bad of [
      'Team',
      'a_b',
      '-a',
      'default',
      'a?colour=red',
      'a?recipients=nobody',
      'a?users=',
      `${'x'.repeat(41)}`,
    ])
      assert.throws(() => parseInbox(bad), InboxError, bad);
    assert.throws(() => InboxBook.parse(['a', 'a']), /two inboxes/);
    assert.throws(() => InboxBook.parse(['a?users=u', 'b?users=u']), /listed by two inboxes/);
  });

  it('files by the authenticated user first, then the first matching pattern, else default', () => {
    const book = InboxBook.parse([
      'team-a?users=alice&recipients=*@team-a.test',
      'team-b?users=bob&recipients=*@team-b.test&recipients=shared@*',
      'late?recipients=shared@*',
    ]);
    assert.equal(book.assign({ authUser: 'alice', rcptTo: ['x@team-b.test'] }), 'team-a');
    assert.equal(book.assign({ authUser: 'carol', rcptTo: ['x@TEAM-B.test'] }), 'team-b');
    assert.equal(book.assign({ authUser: null, rcptTo: ['no@where.test', 'ci@team-a.test'] }), 'team-a');
    assert.equal(book.assign({ authUser: null, rcptTo: ['shared@x.test'] }), 'team-b');
    assert.equal(book.assign({ authUser: null, rcptTo: ['no@where.test'] }), 'default');
    assert.equal(book.inboxOfUser('bob'), 'team-b');
    assert.equal(book.inboxOfUser('admin'), null);
    assert.deepEqual(book.names, ['default', 'team-a', 'team-b', 'late']);
    assert.equal(inboxOf({}), 'default');
    assert.equal(inboxOf({ inbox: 'late' }), 'late');
  });
});
