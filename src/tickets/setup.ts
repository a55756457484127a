// The desks from the configuration, and the ticket services built on them: checked at start, so a
// bad --desk or a missing --ticket-secret stops the server with a message naming the problem.
import type { EventBus } from '../events/bus.ts';
import type { TicketStore } from '../storage/ticket-ports.ts';
import { Anchors } from './anchors.ts';
import { DeskError, parseDesks } from './desk.ts';
import { DeskIntake } from './intake.ts';
import { type OutgoingDeps, TicketMailer } from './outgoing.ts';

export class TicketConfigError extends Error {}

export function anchorsFromConfig(config: {
  desk: readonly string[];
  ticketSecret: readonly string[];
  localDomains: readonly string[];
}): Anchors {
  let desks: ReturnType<typeof parseDesks>;
  try {
    desks = parseDesks(config.desk);
  } catch (err) {
    if (err instanceof DeskError) throw new TicketConfigError(`--desk: ${err.message}`);
    throw err;
  }
  if (desks.length > 0 && config.ticketSecret.length === 0)
    throw new TicketConfigError(
      '--desk needs --ticket-secret (the key that signs reply addresses and Message-IDs)',
    );
  const local = new Set(config.localDomains.map((d) => d.toLowerCase()));
  for (const d of desks) {
    if (local.size > 0 && !local.has(d.domain))
      throw new TicketConfigError(
        `--desk: ${d.domain} must be one of --local-domains, or its mail is refused`,
      );
  }
  return new Anchors(desks, config.ticketSecret);
}

const WRITES = new Set<keyof TicketStore>(['open', 'append', 'update', 'hold', 'resolveHeld']);

/** The store, telling the bus after each write that may have recorded events. */
export function notifying(store: TicketStore, events: EventBus): TicketStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || !WRITES.has(name as keyof TicketStore)) return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        events.emit('tickets:changed', {});
        return result;
      };
    },
  });
}

export interface TicketServices {
  anchors: Anchors;
  store: TicketStore;
  intake: DeskIntake;
  mailer: TicketMailer;
}

export function ticketServices(
  anchors: Anchors,
  store: TicketStore,
  outgoing: Omit<OutgoingDeps, 'store' | 'anchors'>,
): TicketServices {
  const mailer = new TicketMailer({ ...outgoing, store, anchors });
  const intake = new DeskIntake({
    store,
    anchors,
    now: outgoing.now,
    acknowledge: (desk, ticket, mail) => mailer.acknowledge(desk, ticket, mail),
  });
  return { anchors, store, intake, mailer };
}
