// Signed attachment downloads for webhook receivers (actions/webhook/attachment-url.ts):
// GET /api/v1/inbound/attachments/{ID}/{PartID}?expires=…&sig=…. Receivers hold no API
// credentials, so the access policy lets this path through like the tracking links; the signature
// is the credential and is checked before anything is read, so a forged URL learns not even
// whether the message exists. The part is found the way the Mailpit part endpoint finds it
// (the stored bytes, the parse pool's extractPart, its part-id rule and header helpers), and is
// always served as a download.
import { Hono } from 'hono';
import { verifyAttachmentUrl } from '../../../actions/webhook/attachment-url.ts';
import { isMessageId } from '../../../domain/ids.ts';
import type { MimeParser } from '../../../mime/types.ts';
import type { Storage } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { contentDisposition, safeContentType, sanitiseFilename } from '../message/content-disposition.ts';
import { rawOf } from '../message/load.ts';
import { partIdParam } from '../message/schema.ts';

export interface AttachmentDownloadDeps {
  storage: Storage;
  parser: Pick<MimeParser, 'extractPart'>;
  /** The key URLs are signed with (attachmentUrlsFromConfig); null: downloads are off. */
  secret: string | null;
  now: () => number;
}

export function attachmentDownloadRoutes(deps: AttachmentDownloadDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/inbound/attachments/:id/:partId', async (c) => {
    if (deps.secret === null)
      throw new HttpProblem('not-configured', 'Attachment downloads need --attachment-url-secret.');
    const messageId = c.req.param('id');
    const partId = c.req.param('partId');
    const check = verifyAttachmentUrl(
      deps.secret,
      { messageId, partId, expires: c.req.query('expires'), sig: c.req.query('sig') },
      deps.now(),
    );
    if (!check.ok) {
      // Only a URL we signed learns that it has merely expired.
      const detail =
        check.reason === 'expired'
          ? 'This download link has expired; the webhook carries fresh links on each attempt.'
          : 'This download link is not valid.';
      throw new HttpProblem('forbidden', detail);
    }
    // We only sign ids of these shapes; the checks keep anything else away from storage anyway.
    if (!isMessageId(messageId)) throw new HttpProblem('message-not-found', 'No message has this id.');
    if (!partIdParam.safeParse(partId).success)
      throw new HttpProblem('part-not-found', 'No part has this id.');
    const raw = await rawOf(deps.storage, messageId);
    const part = await deps.parser.extractPart(raw, partId).catch((err: Error) => {
      throw new HttpProblem('part-not-found', `The message could not be parsed: ${err.message}`);
    });
    if (!part) throw new HttpProblem('part-not-found', 'The message has no part with this id.');
    const bytes = part.content;
    return new Response(
      bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes),
      {
        status: 200,
        headers: {
          'Content-Type': safeContentType(part.contentType),
          // Always a download: the receiver's program saves it, no browser renders it from our origin.
          'Content-Disposition': contentDisposition(
            'attachment',
            sanitiseFilename(part.filename, `part-${partId}`),
          ),
          'Content-Length': String(bytes.byteLength),
          'X-Content-Type-Options': 'nosniff',
          // The content is one person's mail: no shared cache may keep it.
          'Cache-Control': 'private',
        },
      },
    );
  });

  return app;
}
