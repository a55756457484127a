// A parsed message in the form a batch parse returns it (types.ts BatchParse): made in the parse
// thread, or on the main thread when a batch fell back to parsing its messages one by one.
import type { ParsedMessage } from '../domain/message.ts';
import { announcesReport } from '../outbound/reports.ts';
import { storedParse } from '../storage/rows.ts';
import type { BatchParse, TagFacts } from './types.ts';

export function tagFacts(parsed: ParsedMessage): TagFacts {
  const xTags = (parsed.headers ?? []).flatMap(([name, value]) => (name === 'x-tags' ? [value] : []));
  const addresses = [...parsed.to, ...parsed.cc, ...parsed.bcc].map((a) => a.Address);
  return { xTags, addresses };
}

export function batchParse(parsed: ParsedMessage): BatchParse {
  return {
    ok: true,
    stored: storedParse(parsed),
    facts: tagFacts(parsed),
    // The report intake reads these (with the same test, report-intake.ts).
    ...(announcesReport(parsed) ? { report: parsed } : {}),
  };
}
