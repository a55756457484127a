// What a test usually wants from a message it just caused to be sent: the links in it (a magic
// link, a password reset) and the one-time code, ready to use. Pure: the parsed parts in, the
// GET /api/v1/message/{ID}/extract body out.
import { type ExtractedCode, extractCodes } from './codes.ts';
import { type ExtractedLink, extractLinks, MAX_PART_READ } from './links.ts';

export type { ExtractedCode } from './codes.ts';
export type { ExtractedLink } from './links.ts';

export interface ExtractResult {
  /** Every link, HTML ones first, each once. */
  Links: ExtractedLink[];
  /** Likely one-time codes, most likely first (empty when none looks like one). */
  Codes: ExtractedCode[];
  /** A part was longer than MAX_PART_READ and only its start was read. */
  Truncated: boolean;
}

export function extractFromMessage(parts: { subject: string; text: string; html: string }): ExtractResult {
  return {
    Links: extractLinks(parts),
    Codes: extractCodes(parts),
    Truncated: parts.html.length > MAX_PART_READ || parts.text.length > MAX_PART_READ,
  };
}
