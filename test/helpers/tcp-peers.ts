// Loopback TCP peers for fault tests: a port nobody listens on, a peer that does what the test
// says to each connection, and a proxy to a real server whose connections the test can cut.
import net from 'node:net';

/** A loopback port that is free again: nothing listens there once this resolves. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP peer on loopback that does `onSocket` to every connection and counts them. */
export async function tcpPeer(onSocket: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Forwards each connection to `url`'s host and port, so the test can cut them like a network failure. */
export function tcpProxy(url: string, defaultPort: number) {
  const target = new URL(url);
  return tcpPeer((client) => {
    const upstream = net.connect(Number(target.port || defaultPort), target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
}
