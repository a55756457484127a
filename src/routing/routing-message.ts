// What route conditions see of a message: its envelope, parsed content and checks, gathered
// from the shapes the rest of Mailroom keeps them in.
import type { ParsedMessage } from '../domain/message.ts';
import { htmlToText } from '../mime/html-text.ts';
import type { RoutingMessage } from './conditions.ts';

export interface RoutingFacts {
  mailFrom: string;
  rcptTo: readonly string[];
  size: number;
  parsed: ParsedMessage;
  spamScore?: number | null;
  auth?: RoutingMessage['auth'];
}

export function routingMessage(f: RoutingFacts): RoutingMessage {
  const p = f.parsed;
  return {
    mailFrom: f.mailFrom,
    rcptTo: f.rcptTo,
    from: p.from?.Address ?? '',
    subject: p.subject,
    text: p.text !== '' ? p.text : htmlToText(p.html),
    headers: p.headers ?? [],
    attachments: [...p.attachments, ...p.inline].map((a) => ({
      filename: a.FileName,
      contentType: a.ContentType,
      size: a.Size,
    })),
    size: f.size,
    spamScore: f.spamScore ?? null,
    auth: f.auth ?? null,
  };
}
