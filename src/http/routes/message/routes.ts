// Single-message endpoints of Mailpit's API v1: the message, its headers, its raw source and its
// parts. `{ID}` may be `latest`. Any id that names no stored message is a 404, malformed or not,
// as in Mailpit.
import { Hono } from 'hono';
import type { ParsedMessage } from '../../../domain/message.ts';
import type { Storage } from '../../../storage/ports.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { validate } from '../../validate.ts';
import { contentDisposition, safeContentType, sanitiseFilename } from './content-disposition.ts';
import { parseHeaders } from './headers.ts';
import { presentMessage } from './presenter.ts';
import { messageIdParam, partIdParam, rawQuery } from './schema.ts';

async function resolveId(storage: Storage, param: string): Promise<string> {
  const parsed = messageIdParam.safeParse(param);
  if (!parsed.success) throw new HttpProblem('message-not-found', 'No message has this id.');
  if (parsed.data !== 'latest') return parsed.data;
  const latest = await storage.latestId();
  if (!latest) throw new HttpProblem('message-not-found', 'The mailbox is empty.');
  return latest;
}

async function rawOf(storage: Storage, id: string): Promise<Uint8Array> {
  const raw = await storage.getRaw(id);
  if (!raw) throw new HttpProblem('message-not-found', 'No message has this id.');
  return raw;
}

/** Copies into a fresh ArrayBuffer-backed view when needed, which is what Response accepts. */
function bodyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/**
 * A message the worker has not parsed yet is parsed here, on demand, so the reader need not wait
 * for the queue. The result is shown but not saved: the ingest pipeline owns the parse state and
 * the events it emits, and will store its own parse shortly.
 */
async function parsedFor(
  deps: HttpDeps,
  id: string,
): Promise<{ parsed: ParsedMessage | null; error: string | null }> {
  const raw = await rawOf(deps.storage, id);
  try {
    return { parsed: await deps.parser.parse(raw), error: null };
  } catch (err) {
    return { parsed: null, error: (err as Error).message };
  }
}

/** One decoded part, with headers that keep a hostile file name or type from doing harm. */
async function partResponse(deps: HttpDeps, id: string, partId: string): Promise<Response> {
  if (!partIdParam.safeParse(partId).success) throw new HttpProblem('part-not-found', 'No part has this id.');
  const raw = await rawOf(deps.storage, id);
  const part = await deps.parser.extractPart(raw, partId).catch((err: Error) => {
    throw new HttpProblem('part-not-found', `The message could not be parsed: ${err.message}`);
  });
  if (!part) throw new HttpProblem('part-not-found', 'The message has no part with this id.');
  const filename = sanitiseFilename(part.filename, `part-${partId}`);
  return new Response(bodyBytes(part.content), {
    status: 200,
    headers: {
      'Content-Type': safeContentType(part.contentType),
      // Inline, as Mailpit serves parts; the API's CSP sandbox keeps an HTML or SVG part inert.
      'Content-Disposition': contentDisposition('inline', filename),
      'Content-Length': String(part.content.byteLength),
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

export function messageRoutes(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { storage } = deps;

  app.get('/message/:id', async (c) => {
    const id = await resolveId(storage, c.req.param('id'));
    const message = await storage.get(id);
    if (!message) throw new HttpProblem('message-not-found', 'No message has this id.');
    let parsed = message.parsed;
    let parseError = message.parseError;
    if (message.parseState === 'pending' && !parsed) {
      ({ parsed, error: parseError } = await parsedFor(deps, id));
    }
    // Mailpit marks a message read when it is opened through this endpoint.
    if (!message.read) await storage.setRead([id], true);
    return c.json(presentMessage(message, parsed, parseError));
  });

  app.get('/message/:id/headers', async (c) => {
    const id = await resolveId(storage, c.req.param('id'));
    return c.json(parseHeaders(await rawOf(storage, id)));
  });

  app.get('/message/:id/raw', async (c) => {
    const id = await resolveId(storage, c.req.param('id'));
    const { dl } = validate(rawQuery, c.req.query(), 'query');
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    // The id is 22 base62 characters (checked above), so it is safe inside the quoted file name.
    if (dl === '1') headers['Content-Disposition'] = contentDisposition('attachment', `${id}.eml`);
    return new Response(bodyBytes(await rawOf(storage, id)), { status: 200, headers });
  });

  app.get('/message/:id/part/:partId', async (c) =>
    partResponse(deps, await resolveId(storage, c.req.param('id')), c.req.param('partId')),
  );

  return app;
}
