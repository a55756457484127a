// A scripted SMTP server on loopback (smtp-server on port 0, plain, AUTH optional) that outbound
// tests deliver to; the test decides how it answers each recipient and each message.
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ScriptedSmtp {
  port: number;
  close(): Promise<void>;
}

export async function scriptedSmtp(
  handlers: Pick<SMTPServerOptions, 'onRcptTo' | 'onData'>,
): Promise<ScriptedSmtp> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...handlers,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The whole DATA stream, decoded. */
export async function readData(stream: Readable, encoding: BufferEncoding = 'utf8'): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString(encoding);
}
