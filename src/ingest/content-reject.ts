// Reject routes whose conditions need the message itself (subject, body, headers, attachments,
// size, sender checks) answer after DATA, before the 250: the routes are evaluated on the parsed
// message and the first matching route with a reject action gives the reply. Nothing is stored
// then, so the sender's server owns the bounce. Envelope-only rejects were already answered at RCPT.
import type { Envelope, ParsedMessage } from '../domain/message.ts';
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import { routingMessage } from '../routing/routing-message.ts';
import { readOwnResults } from './auth-results-read.ts';

export interface ContentRefusal {
  routeId: string;
  code: number;
  text: string;
}

export interface ContentRejectDeps {
  router: () => Promise<Router>;
  parse: (raw: Uint8Array) => Promise<ParsedMessage>;
  /** Our authserv-id: only Authentication-Results we wrote are read. */
  hostname: string;
  logger: Logger;
}

export type ContentCheck = (envelope: Envelope, raw: Uint8Array) => Promise<ContentRefusal | null>;

export function contentRejecter(deps: ContentRejectDeps): ContentCheck {
  return async (envelope, raw) => {
    const router = await deps.router();
    // Most servers have no reject route: they pay nothing here, not even a parse.
    const rejecting = router.routes.filter((r) => r.enabled && r.actions.some((a) => a.type === 'reject'));
    if (rejecting.length === 0) return null;
    let parsed: ParsedMessage;
    try {
      parsed = await deps.parse(raw);
    } catch (err) {
      // Taken, not refused: the message is stored and routed later, where a reject route's action
      // records that it came too late.
      deps.logger.warn({ err: (err as Error).message }, 'routes: could not parse the message at DATA');
      return null;
    }
    const evaluation = router.evaluate(
      routingMessage({
        mailFrom: envelope.mailFrom,
        rcptTo: envelope.rcptTo,
        size: raw.byteLength,
        parsed,
        auth: readOwnResults(parsed.headers ?? [], deps.hostname),
      }),
    );
    for (const v of evaluation.verdicts) {
      if (!v.matched) continue;
      const refusal = router.routes.find((r) => r.id === v.routeId)?.actions.find((a) => a.type === 'reject');
      if (refusal) return { routeId: v.routeId, code: refusal.code, text: refusal.text };
    }
    return null;
  };
}
