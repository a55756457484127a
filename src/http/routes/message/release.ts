// POST /api/v1/message/{ID}/release (Mailpit's shape: `{"To": ["a@example.test"]}`): sends a
// stored message on to the configured release server (src/outbound/release.ts). Mailpit answers
// `ok` as text; a client that asks for JSON gets what the server said. Every recipient is judged
// before anything is sent: one refused address refuses the whole request, so nothing goes out
// half-allowed.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Releaser } from '../../../outbound/release.ts';
import { screenRecipients } from '../../../outbound/release.ts';
import type { Storage } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { mailboxFor } from '../../mailbox.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { resolveId } from './load.ts';

export const releaseBody = z
  .object({
    To: z
      .array(z.string().max(512))
      .min(1)
      .max(100)
      .describe('Addresses to send the message to: a@b, or Name <a@b> as Mailpit takes them'),
  })
  .strict();

export const releaseResult = z.object({
  ID: z.string(),
  MailFrom: z.string().describe('The envelope sender used (--release-from, else the one it arrived with)'),
  To: z.array(z.string()),
  Reply: z.string().describe("The release server's reply to the message"),
});

export function releaseRoutes(deps: { releaser: Releaser | null; storage: Storage }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/message/:id/release', async (c) => {
    const releaser = deps.releaser;
    if (!releaser) {
      throw new HttpProblem('conflict', 'Release is not configured: start Mailroom with --release-host.');
    }
    const box = mailboxFor(deps.storage, c);
    const id = await resolveId(box, c.req.param('id'));
    const { To } = validate(releaseBody, await readJsonBody(c.req), 'release request');
    const { accepted, refused } = screenRecipients(releaser.settings, To);
    if (refused.length > 0) {
      const why = refused.map((r) => `${r.address} ${r.reason}`).join('; ');
      throw new HttpProblem('bad-request', `Nothing was released: ${why}.`);
    }
    const [message, raw] = await Promise.all([box.get(id), box.getRaw(id)]);
    if (!message || !raw) throw new HttpProblem('message-not-found', 'No message has this id.');
    const outcome = await releaser.release({ id, mailFrom: message.envelope.mailFrom, raw }, accepted);
    const log = c.get('log');
    if (outcome.recordError) log.error({ message: id, err: outcome.recordError }, 'release event not stored');
    if (!outcome.ok) {
      log.warn({ message: id, recipients: accepted.length, reply: outcome.reply }, 'message release failed');
      const taken = outcome.results.filter((r) => r.outcome === 'delivered').map((r) => r.address);
      const failed = outcome.results
        .filter((r) => r.outcome !== 'delivered')
        .map((r) => `${r.address}: ${r.reply}`);
      throw new HttpProblem(
        'bad-gateway',
        `The release server did not take the message for ${failed.join('; ')}` +
          (taken.length > 0 ? `; it did take it for ${taken.join(', ')}.` : '.'),
      );
    }
    log.info({ message: id, recipients: accepted.length }, 'message released');
    if (/\bapplication\/json\b/i.test(c.req.header('Accept') ?? '')) {
      return c.json({ ID: id, MailFrom: outcome.mailFrom, To: accepted, Reply: outcome.reply });
    }
    return c.text('ok');
  });

  return app;
}
