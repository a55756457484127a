// The door-facing side of the spool: a door hands over a complete message and its envelope and
// gets the message id back only once the bytes are durably committed. Only then may it say 250.
import { newMessageId } from '../domain/ids.ts';
import type { InboxBook } from '../domain/inbox.ts';
import type { Envelope } from '../domain/message.ts';
import type { EventBus } from '../events/bus.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Storage } from '../storage/ports.ts';

export class Spool {
  private readonly storage: Storage;
  private readonly metrics: Metrics;
  private readonly events: EventBus;
  private readonly inboxes: InboxBook | null;
  /** Called with each committed message and its bytes, before the event is emitted (the parse runner). */
  onCommitted: ((id: string, raw: Uint8Array, envelope: Envelope) => void) | null = null;

  constructor(deps: { storage: Storage; metrics: Metrics; events: EventBus; inboxes?: InboxBook }) {
    this.storage = deps.storage;
    this.metrics = deps.metrics;
    this.events = deps.events;
    this.inboxes = deps.inboxes && deps.inboxes.inboxes.length > 0 ? deps.inboxes : null;
  }

  /** The envelope with the inbox the message is filed in (none when no inbox is configured: the default). */
  private filed(envelope: Envelope): Envelope {
    if (!this.inboxes || envelope.inbox !== undefined) return envelope;
    return { ...envelope, inbox: this.inboxes.assign(envelope) };
  }

  /**
   * Commits the message durably and returns its id. Rejects when the commit failed: say 451.
   * `id` is given by a door that already named the message (captured outbound mail keeps its
   * outbound id); a message with that id already stored is refused.
   */
  async accept(received: Envelope, raw: Uint8Array, id = newMessageId()): Promise<string> {
    const started = performance.now();
    const envelope = this.filed(received);
    await this.storage.appendSpool([{ id, envelope, raw }]);
    // From here the message is stored: nothing below may turn its 250 into an error (the client
    // would send it again).
    try {
      this.afterCommit(id, envelope, raw, started);
    } catch {
      // Metrics and local listeners are best effort; the poller finds the message regardless.
    }
    return id;
  }

  /**
   * Commits a polled message with its import keys, unless one of them was imported before
   * ('duplicate': nothing stored).
   */
  async importPolled(
    received: Envelope,
    raw: Uint8Array,
    keys: readonly string[],
    id = newMessageId(),
  ): Promise<'stored' | 'duplicate'> {
    const started = performance.now();
    const envelope = this.filed(received);
    const outcome = await this.storage.inbound.importMessage(
      { id, envelope, raw },
      keys,
      envelope.receivedAt,
    );
    if (outcome === 'stored') {
      try {
        this.afterCommit(id, envelope, raw, started);
      } catch {
        // As in accept(): the message is stored; the poller finds it regardless.
      }
    }
    return outcome;
  }

  private afterCommit(id: string, envelope: Envelope, raw: Uint8Array, started: number): void {
    this.metrics.spoolCommitSeconds.observe((performance.now() - started) / 1000);
    this.metrics.messagesAccepted.inc({ listener: envelope.listener });
    this.metrics.bytesAccepted.inc({}, raw.byteLength);
    this.onCommitted?.(id, raw, envelope);
    this.events.emit('message:stored', { id });
  }
}
