// Mailpit's Message shape (GET /api/v1/message/{ID}) plus Mailroom's Envelope and parse status.
import type { AttachmentMeta, ParsedMessage, StoredMessage } from '../../../domain/message.ts';
import { presentEnvelope } from '../messages/presenter.ts';

function presentAttachment(a: AttachmentMeta) {
  return {
    PartID: a.PartID,
    FileName: a.FileName,
    ContentType: a.ContentType,
    ContentID: a.ContentID,
    Size: a.Size,
    Checksums: { MD5: a.Checksums.MD5, SHA1: a.Checksums.SHA1, SHA256: a.Checksums.SHA256 },
  };
}

/**
 * `parsed` is the stored parse, or one made on demand for a pending message; null when parsing
 * failed, in which case the summary's (empty) values and `parseError` are all there is to show.
 */
export function presentMessage(m: StoredMessage, parsed: ParsedMessage | null, parseError: string | null) {
  return {
    ID: m.id,
    MessageID: parsed?.messageId ?? m.messageId,
    From: parsed ? parsed.from : m.from,
    To: parsed?.to ?? m.to,
    Cc: parsed?.cc ?? m.cc,
    Bcc: parsed?.bcc ?? m.bcc,
    ReplyTo: parsed?.replyTo ?? m.replyTo,
    ReturnPath: parsed?.returnPath ?? '',
    Subject: parsed?.subject ?? m.subject,
    ListUnsubscribe: {
      Header: parsed?.listUnsubscribe.header ?? '',
      Links: parsed?.listUnsubscribe.links ?? [],
      Errors: parsed?.listUnsubscribe.errors ?? '',
      HeaderPost: parsed?.listUnsubscribe.post ?? '',
    },
    // Mailpit: the Date header when present, else the time the message was received.
    Date: parsed?.date ?? m.receivedAt,
    Tags: m.tags,
    Username: m.envelope.authUser ?? '',
    Text: parsed?.text ?? '',
    HTML: parsed?.html ?? '',
    Size: m.size,
    Inline: (parsed?.inline ?? []).map(presentAttachment),
    Attachments: (parsed?.attachments ?? []).map(presentAttachment),
    Envelope: presentEnvelope(m.envelope),
    ParseState: m.parseState,
    ParseError: parseError,
  };
}
