// Connect stage: admission by connection counts. Counts are taken when the socket is accepted
// (before any greeting), so a refused connection still holds its slot until it has been closed.
import type { SessionFacts, Verdict } from './types.ts';
import { ACCEPT, defer } from './types.ts';

export interface ConnectInput extends SessionFacts {
  /** Open connections from this IP, this one included. */
  fromIp: number;
  /** Open connections in all, this one included. */
  total: number;
}

export type ConnectHook = (input: ConnectInput) => Verdict | Promise<Verdict>;

export function createConnectHook(limits: {
  maxConnections: number;
  maxConnectionsPerIp: number;
}): ConnectHook {
  return (input) => {
    // The total is checked first: when the server is full, one client's share is not the problem.
    if (input.total > limits.maxConnections) return defer('too-many-connections');
    if (input.fromIp > limits.maxConnectionsPerIp) return defer('too-many-connections-from-ip');
    return ACCEPT;
  };
}
