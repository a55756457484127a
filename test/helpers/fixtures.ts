// Builders for envelopes and spool entries used across tests.
import { newMessageId } from '../../src/domain/ids.ts';
import type { Envelope, SpoolEntry } from '../../src/domain/message.ts';
import type { NewOutbound } from '../../src/storage/ports.ts';

export function envelope(over: Partial<Envelope> = {}): Envelope {
  return {
    mailFrom: 'sender@example.test',
    rcptTo: ['rcpt@example.test'],
    clientIp: '127.0.0.1',
    clientPort: 40000,
    helo: 'client.example.test',
    tls: null,
    authUser: null,
    listener: 'smtp',
    receivedAt: new Date().toISOString(),
    sessionId: 'test-session',
    ...over,
  };
}

export function rawMessage(subject = 'Hello', body = 'Hi there.\r\n'): Uint8Array {
  return Buffer.from(
    `From: Sender <sender@example.test>\r\nTo: rcpt@example.test\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${newMessageId()}@example.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n${body}`,
  );
}

export function spoolEntry(subject?: string, over: Partial<Envelope> = {}): SpoolEntry {
  return { id: newMessageId(), envelope: envelope(over), raw: rawMessage(subject) };
}

/**
 * A message to queue for delivery, as the send API would: from app@shop.example, due at `at`
 * (epoch ms), expiring a day later, the raw bytes given as text.
 */
export function outboundMessage(
  rcptTo: string[],
  raw: string,
  at: number,
  over: Partial<NewOutbound> = {},
): NewOutbound {
  const id = over.id ?? newMessageId();
  return {
    id,
    mailFrom: 'app@shop.example',
    rcptTo,
    raw: new TextEncoder().encode(raw),
    headerMessageId: `<${id}@shop.example>`,
    source: 'api',
    client: { ip: '', authUser: null },
    tags: [],
    metadata: {},
    queuedAt: new Date(at).toISOString(),
    sendAt: new Date(at).toISOString(),
    expiresAt: new Date(at + 86_400_000).toISOString(),
    ...over,
  };
}
