// GET /view/{ID}.html and /view/{ID}.txt (Mailpit's view endpoints): the message HTML as a
// sandboxed standalone document, and its text. `{ID}` may be `latest`.
import { type Context, Hono } from 'hono';
import type { MimeParser } from '../../../mime/types.ts';
import type { AppEnv, HttpDeps } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { mailboxFor } from '../../mailbox.ts';
import { validate } from '../../validate.ts';
import { loadMessage } from '../message/load.ts';
import { type InlineImage, renderView } from './render.ts';
import { viewQuery } from './schema.ts';

/** Inline parts the HTML refers to by Content-ID, decoded; capped in number. */
const MAX_INLINE_PARTS = 50;

export function viewRoutes(deps: HttpDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/view/:file{.+\\.(?:html|txt)}', async (c) => {
    const file = c.req.param('file');
    const dot = file.lastIndexOf('.');
    const ext = file.slice(dot + 1);
    const loaded = await loadMessage(deps, file.slice(0, dot), mailboxFor(deps.storage, c));
    const parsed = loaded.parsed;
    if (ext === 'txt') {
      return c.body(parsed?.text ?? '', 200, { 'Content-Type': 'text/plain; charset=utf-8' });
    }
    if (!parsed)
      throw new HttpProblem('message-not-found', `The message could not be parsed: ${loaded.error}`);
    if (!parsed.html) throw new HttpProblem('not-found', 'This message has no HTML part.');
    const inline = parsed.inline.map((p) => ({
      partId: p.PartID,
      contentId: p.ContentID,
      contentType: p.ContentType,
    }));
    return htmlView(c, deps.parser, loaded.raw, parsed.html, inline);
  });

  return app;
}

/** An inline part the HTML may refer to by Content-ID. */
export interface InlinePart {
  partId: string;
  contentId: string;
  contentType: string;
}

/**
 * HTML mail as a standalone sandboxed document (`?remote=1` allows remote resources, `?embed=1`
 * for the UI's frame), its cid: images inlined from `raw`: the message view's and the ticket
 * entries' alike.
 */
export async function htmlView(
  c: Context<AppEnv>,
  parser: Pick<MimeParser, 'extractPart'>,
  raw: Uint8Array,
  html: string,
  inline: readonly InlinePart[],
): Promise<Response> {
  const { remote, embed } = validate(viewQuery, c.req.query(), 'query');
  const images: InlineImage[] = [];
  for (const part of inline.slice(0, MAX_INLINE_PARTS)) {
    if (!part.contentType.toLowerCase().startsWith('image/')) continue;
    // extractPart takes ownership of the bytes it is given, so each call gets a copy.
    const content = await parser.extractPart(new Uint8Array(raw), part.partId).catch(() => null);
    if (content)
      images.push({ contentId: part.contentId, contentType: content.contentType, content: content.content });
  }
  const view = renderView(html, images, { allowRemote: remote === '1', embed: embed === '1' });
  return c.body(view.html, 200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': view.csp,
    'X-Mailroom-Remote-Blocked': String(remote === '1' ? 0 : view.remoteResources),
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'SAMEORIGIN',
  });
}
