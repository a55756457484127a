// Finds the message a request names (`{ID}` or `latest`) and its parse, shared by the message,
// view and check endpoints, in the mailbox the request may see (http/mailbox.ts). Any id that names no stored message is a 404, malformed or not, as in
// Mailpit.
import type { ParsedMessage, StoredMessage } from '../../../domain/message.ts';
import type { Storage } from '../../../storage/ports.ts';
import type { HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import type { Mailbox } from '../../mailbox.ts';
import { messageIdParam } from './schema.ts';

export async function resolveId(storage: Pick<Storage, 'latestId'>, param: string): Promise<string> {
  const parsed = messageIdParam.safeParse(param);
  if (!parsed.success) throw new HttpProblem('message-not-found', 'No message has this id.');
  if (parsed.data !== 'latest') return parsed.data;
  const latest = await storage.latestId();
  if (!latest) throw new HttpProblem('message-not-found', 'The mailbox is empty.');
  return latest;
}

export async function rawOf(storage: Pick<Storage, 'getRaw'>, id: string): Promise<Uint8Array> {
  const raw = await storage.getRaw(id);
  if (!raw) throw new HttpProblem('message-not-found', 'No message has this id.');
  return raw;
}

export interface LoadedMessage {
  message: StoredMessage;
  /** Stored parse, or one made on demand for a message still pending; null when parsing failed. */
  parsed: ParsedMessage | null;
  error: string | null;
  raw: Uint8Array;
}

/**
 * A message the worker has not parsed yet is parsed here, on demand, so the reader need not wait
 * for the queue. The result is shown but not saved: the ingest pipeline owns the parse state and
 * the events it emits, and will store its own parse shortly.
 */
export async function loadMessage(deps: HttpDeps, param: string, mailbox: Mailbox): Promise<LoadedMessage> {
  const id = await resolveId(mailbox, param);
  const [message, raw] = await Promise.all([mailbox.get(id), mailbox.getRaw(id)]);
  if (!message || !raw) throw new HttpProblem('message-not-found', 'No message has this id.');
  let parsed = message.parsed;
  let error = message.parseError;
  if (message.parseState === 'pending' && !parsed) {
    try {
      // parse() takes ownership of its buffer; the copy keeps `raw` usable for the caller.
      parsed = await deps.parser.parse(new Uint8Array(raw));
      error = null;
    } catch (err) {
      error = (err as Error).message;
    }
  }
  return { message, parsed, error, raw };
}
