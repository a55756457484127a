// Single-message endpoints of Mailpit's API v1: the message, its headers, its raw source and its
// parts. `{ID}` may be `latest`. Any id that names no stored message is a 404, malformed or not,
// as in Mailpit.
import { Hono } from 'hono';
import { thumbnail } from '../../../mime/thumbnail.ts';
import type { PartContent } from '../../../mime/types.ts';
import { SpamCheckError, spamErrorResult } from '../../../spam/index.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { type Mailbox, mailboxFor } from '../../mailbox.ts';
import { validate } from '../../validate.ts';
import { contentDisposition, safeContentType, sanitiseFilename } from './content-disposition.ts';
import { parseHeaders } from './headers.ts';
import { loadMessage, rawOf, resolveId } from './load.ts';
import { presentMessage } from './presenter.ts';
import { partIdParam, rawQuery } from './schema.ts';

/** Copies into a fresh ArrayBuffer-backed view when needed, which is what Response accepts. */
function bodyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** The decoded content of one part of a message; a 404 problem when there is no such part. */
async function decodedPart(
  deps: HttpDeps,
  mailbox: Mailbox,
  id: string,
  partId: string,
): Promise<PartContent> {
  if (!partIdParam.safeParse(partId).success) throw new HttpProblem('part-not-found', 'No part has this id.');
  const raw = await rawOf(mailbox, id);
  const part = await deps.parser.extractPart(raw, partId).catch((err: Error) => {
    throw new HttpProblem('part-not-found', `The message could not be parsed: ${err.message}`);
  });
  if (!part) throw new HttpProblem('part-not-found', 'The message has no part with this id.');
  return part;
}

/** One decoded part, with headers that keep a hostile file name or type from doing harm. */
async function partResponse(deps: HttpDeps, mailbox: Mailbox, id: string, partId: string): Promise<Response> {
  const part = await decodedPart(deps, mailbox, id, partId);
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
    const box = mailboxFor(storage, c);
    const { message, parsed, error } = await loadMessage(deps, c.req.param('id'), box);
    // Mailpit marks a message read when it is opened through this endpoint.
    if (!message.read) {
      const changed = await box.setRead([message.id], true);
      for (const id of changed) deps.events.emit('message:updated', { id, read: true });
    }
    return c.json(presentMessage(message, parsed, error));
  });

  app.get('/message/:id/headers', async (c) => {
    const box = mailboxFor(storage, c);
    const id = await resolveId(box, c.req.param('id'));
    return c.json(parseHeaders(await rawOf(box, id)));
  });

  app.get('/message/:id/raw', async (c) => {
    const box = mailboxFor(storage, c);
    const id = await resolveId(box, c.req.param('id'));
    const { dl } = validate(rawQuery, c.req.query(), 'query');
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
    // The id is 22 base62 characters (checked above), so it is safe inside the quoted file name.
    if (dl === '1') headers['Content-Disposition'] = contentDisposition('attachment', `${id}.eml`);
    return new Response(bodyBytes(await rawOf(box, id)), { status: 200, headers });
  });

  app.get('/message/:id/part/:partId', async (c) => {
    const box = mailboxFor(storage, c);
    return partResponse(deps, box, await resolveId(box, c.req.param('id')), c.req.param('partId'));
  });

  app.get('/message/:id/part/:partId/thumb', async (c) => {
    // Mailpit answers an unknown message or part here with 400 (not the 404 of the part itself).
    const box = mailboxFor(storage, c);
    const part = await resolveId(box, c.req.param('id'))
      .then((id) => decodedPart(deps, box, id, c.req.param('partId')))
      .catch((err: unknown) => {
        if (err instanceof HttpProblem && err.status === 404)
          throw new HttpProblem('bad-request', err.detail);
        throw err;
      });
    const jpeg = await thumbnail(part.content, part.contentType);
    return new Response(bodyBytes(jpeg), {
      status: 200,
      headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': 'private, max-age=3600' },
    });
  });

  app.get('/message/:id/sa-check', async (c) => {
    if (!deps.spam) {
      throw new HttpProblem('not-configured', 'No spam checker is configured (--spamassassin or --rspamd).');
    }
    const { message, raw } = await loadMessage(deps, c.req.param('id'), mailboxFor(storage, c));
    const e = message.envelope;
    const signal = AbortSignal.timeout(deps.config.spamTimeout + 1000);
    const checker = deps.spam;
    const result = await checker
      .check(
        raw,
        { clientIp: e.clientIp, helo: e.helo, mailFrom: e.mailFrom, rcptTo: e.rcptTo, authUser: e.authUser },
        signal,
      )
      .catch((err: Error) => {
        c.get('log').warn({ err }, 'spam check failed');
        // As in Mailpit, a checker that fails (down, slow, garbled) is reported in the result's Error.
        if (err instanceof SpamCheckError) return spamErrorResult(err.engine, err);
        throw new HttpProblem('bad-gateway', `The spam check failed: ${err.message}`);
      });
    return c.json(result as object);
  });

  return app;
}
