// Tags a message gets when it is parsed: names from its X-Tags header, the +tag of plus-addressed
// recipients (user+tag@example.com, in the headers or the envelope, so Bcc counts too), the SMTP
// AUTH user when asked, and tag rules: `{"match": "<search>", "tags": [...]}`, where the search is
// Mailpit's syntax, evaluated in memory with the same meaning as the search API.
import fs from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Envelope, ParsedMessage } from '../domain/message.ts';
import { cleanTag } from '../domain/tags.ts';
import { tagFacts } from '../mime/batch-parse.ts';
import type { TagFacts } from '../mime/types.ts';
import type { SearchDocument, SearchQuery } from '../search/ast.ts';
import { matchesSearch } from '../search/match.ts';
import { parseSearch } from '../search/query.ts';
import { messageSearchDocument } from '../search/text.ts';

export interface TagRule {
  match: string;
  tags: string[];
  query: SearchQuery;
}

const rulesFile = z
  .array(z.object({ match: z.string().min(1).max(2000), tags: z.array(z.string()).min(1).max(50) }).strict())
  .max(1000);

/** Reads and checks a tag-rules file; every problem is a ConfigError naming the rule. */
export function loadTagRules(file: string): TagRule[] {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`--tag-rules-file: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = rulesFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `--tag-rules-file: ${file} is not a list of {"match": "...", "tags": [...]}: ${issue?.path.join('.')} ${issue?.message}`,
    );
  }
  return parsed.data.map((rule, i) => {
    const tags = rule.tags.map((t) => {
      const clean = cleanTag(t);
      if (!clean) throw new ConfigError(`--tag-rules-file: rule ${i + 1} has an invalid tag "${t}"`);
      return clean;
    });
    try {
      return { match: rule.match, tags, query: parseSearch(rule.match) };
    } catch (err) {
      throw new ConfigError(`--tag-rules-file: rule ${i + 1} ("${rule.match}"): ${(err as Error).message}`);
    }
  });
}

const PLUS = /^[^@]*?\+([^@]+)@/;

/** What tagging reads of a message. */
export interface TagInput {
  facts: TagFacts;
  search: SearchDocument;
  attachments: number;
  inline: number;
}

export function tagInput(parsed: ParsedMessage): TagInput {
  return {
    facts: tagFacts(parsed),
    search: messageSearchDocument(parsed),
    attachments: parsed.attachments.length,
    inline: parsed.inline.length,
  };
}

export class Tagger {
  private readonly config: Pick<Config, 'tagsFromHeader' | 'tagsFromPlusAddress' | 'tagsFromUsername'>;
  private readonly rules: readonly TagRule[];

  constructor(
    config: Pick<Config, 'tagsFromHeader' | 'tagsFromPlusAddress' | 'tagsFromUsername'>,
    rules: readonly TagRule[] = [],
  ) {
    this.config = config;
    this.rules = rules;
  }

  static fromConfig(config: Config): Tagger {
    return new Tagger(config, config.tagRulesFile ? loadTagRules(config.tagRulesFile) : []);
  }

  /** Tag names for a parsed message (cleaning and de-duplication happen in storage). */
  tagsFor(parsed: ParsedMessage, envelope: Envelope | null, size: number): string[] {
    return this.tagsOf(tagInput(parsed), envelope, size);
  }

  /** The same from what a batch parse returns (the parse pipeline: no parsed object on this thread). */
  tagsOf(m: TagInput, envelope: Envelope | null, size: number): string[] {
    const tags: string[] = [];
    if (this.config.tagsFromHeader) {
      for (const value of m.facts.xTags) tags.push(...value.split(',').map((t) => t.trim()));
    }
    if (this.config.tagsFromPlusAddress) {
      for (const a of [...m.facts.addresses, ...(envelope?.rcptTo ?? [])]) {
        const match = PLUS.exec(a);
        if (match?.[1]) tags.push(match[1]);
      }
    }
    if (this.config.tagsFromUsername && envelope?.authUser) tags.push(envelope.authUser);
    if (this.rules.length > 0) {
      const target = {
        doc: m.search,
        // Rules see the tags the message had before any rule ran, so their order does not matter.
        tags: [...tags],
        read: false,
        attachments: m.attachments,
        inline: m.inline,
        receivedAt: envelope ? Date.parse(envelope.receivedAt) : Date.now(),
        size,
        ...(envelope?.inbox ? { inbox: envelope.inbox } : {}),
      };
      for (const rule of this.rules) if (matchesSearch(rule.query, target)) tags.push(...rule.tags);
    }
    return tags.filter((t) => cleanTag(t) !== null);
  }
}
