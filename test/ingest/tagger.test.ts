// Automatic tags: X-Tags, plus-addressing (headers and envelope), the AUTH user, and tag rules
// written as searches; the rules file is checked at start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.ts';
import type { ParsedMessage } from '../../src/domain/message.ts';
import { loadTagRules, Tagger } from '../../src/ingest/tagger.ts';
import { tempDir } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';

function parsed(over: Partial<ParsedMessage> = {}): ParsedMessage {
  return {
    messageId: 'a@example.test',
    subject: 'Weekly report',
    date: null,
    from: { Name: 'Reports', Address: 'reports@example.test' },
    to: [{ Name: '', Address: 'team+weekly@example.test' }],
    cc: [],
    bcc: [],
    replyTo: [],
    returnPath: '',
    text: 'All systems nominal.',
    html: '',
    snippet: '',
    attachments: [],
    inline: [],
    listUnsubscribe: { header: '', links: [], post: '', errors: '' },
    headers: [
      ['x-tags', 'Reports, ops ,  '],
      ['x-priority', '1'],
    ],
    ...over,
  };
}

const all = { tagsFromHeader: true, tagsFromPlusAddress: true, tagsFromUsername: true };

describe('tagger', () => {
  it('takes X-Tags, plus-addresses from headers and envelope, and the AUTH user', () => {
    const tags = new Tagger(all).tagsFor(
      parsed(),
      envelope({ rcptTo: ['team+weekly@example.test', 'hidden+audit@example.test'], authUser: 'ci-bot' }),
      100,
    );
    assert.deepEqual(tags, ['Reports', 'ops', 'weekly', 'weekly', 'audit', 'ci-bot']);
  });

  it('honours each switch', () => {
    const none = new Tagger({ tagsFromHeader: false, tagsFromPlusAddress: false, tagsFromUsername: false });
    assert.deepEqual(none.tagsFor(parsed(), envelope({ authUser: 'x' }), 100), []);
  });

  it('drops names that are not valid tags', () => {
    const tags = new Tagger(all).tagsFor(parsed({ headers: [['x-tags', 'ok,<script>,"quoted"']] }), null, 1);
    assert.deepEqual(tags, ['ok', 'weekly']);
  });

  it('applies rules written as searches, each seeing the tags from before the rules', () => {
    const dir = tempDir();
    const file = path.join(dir, 'rules.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        { match: 'subject:report header:X-Priority:1', tags: ['Urgent report'] },
        { match: 'is:tagged', tags: ['had-tags'] },
        { match: 'from:nobody@', tags: ['never'] },
        { match: 'nominal larger:50', tags: ['big'] },
      ]),
    );
    const tagger = new Tagger(
      { tagsFromHeader: false, tagsFromPlusAddress: false, tagsFromUsername: false },
      loadTagRules(file),
    );
    assert.deepEqual(tagger.tagsFor(parsed(), null, 100), ['Urgent report', 'big']);
    assert.deepEqual(tagger.tagsFor(parsed(), null, 10), ['Urgent report']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a rules file that is not valid, naming the rule', () => {
    const dir = tempDir();
    const file = path.join(dir, 'rules.json');
    for (const [content, pattern] of [
      ['not json', /cannot read/],
      [JSON.stringify({ match: 'x' }), /not a list/],
      [JSON.stringify([{ match: 'x', tags: ['bad,tag'] }]), /rule 1 has an invalid tag/],
      [
        JSON.stringify([
          { match: 'x', tags: ['a'] },
          { match: 'before:someday', tags: ['b'] },
        ]),
        /rule 2/,
      ],
    ] as const) {
      fs.writeFileSync(file, content);
      assert.throws(
        () => loadTagRules(file),
        (err: Error) => err instanceof ConfigError && pattern.test(err.message),
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
