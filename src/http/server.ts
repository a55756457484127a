// Binds the Hono app to a TCP port with @hono/node-server and closes it cleanly on shutdown.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

export interface HttpServer {
  address: AddressInfo;
  /** The Node server, for WebSocket upgrades. */
  server: Server;
  close(): Promise<void>;
}

/** Splits "host:port" or "[v6]:port"; port 0 asks the OS for a free port. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address "${listen}", expected host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

// biome-ignore lint/suspicious/noExplicitAny: any Hono app, whatever its Env type, serves the same way.
export async function startHttp(app: Hono<any>, listen: string): Promise<HttpServer> {
  const { host, port } = parseListen(listen);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.closeIdleConnections();
      }),
  };
}
