// A scripted SMTP server on loopback (smtp-server on port 0, plain, AUTH optional) that outbound
// tests deliver to; the test decides how it answers each recipient and each message.
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ScriptedSmtp {
  port: number;
  /** Hangs up every open connection without a word, as a server's idle timeout does. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function scriptedSmtp(
  handlers: Pick<SMTPServerOptions, 'onRcptTo' | 'onData' | 'onConnect' | 'onMailFrom' | 'hideSMTPUTF8'>,
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
    dropConnections() {
      // smtp-server keeps its connections in a set, each with its socket (not public API).
      const open = (server as unknown as { connections: Set<{ _socket: net.Socket }> }).connections;
      for (const c of open) c._socket.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The whole DATA stream, decoded. */
export async function readData(stream: Readable, encoding: BufferEncoding = 'utf8'): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString(encoding);
}
