// In-process typed event bus. Event names are `noun:verb`; payloads carry ids, never bodies.
// (The durable, cursor-based event log arrives with the pipeline issues; this bus wakes local
// consumers such as the parse runner and, later, live UI updates.)
import { EventEmitter } from 'node:events';

export interface EventMap {
  'message:stored': { id: string };
  'message:parsed': { id: string; ok: boolean };
  'message:deleted': { ids: readonly string[] | 'all' };
  /** Read state or tags changed; only the fields that changed are present. */
  'message:updated': { id: string; read?: boolean; tags?: readonly string[] };
  /** Retention removed old messages (ids not listed: there may be thousands). */
  'messages:pruned': { count: number };
  /** Tags were renamed or deleted across many messages. */
  'tags:changed': Record<string, never>;
  /** A message was durably queued, or one of its deliveries made due (wakes the local worker). */
  'outbound:queued': { id: string };
  /** A ticket event was recorded on this node (SSE streams and the webhook feed look at once). */
  'tickets:changed': Record<string, never>;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(100);
  }
  emit<K extends keyof EventMap>(name: K, payload: EventMap[K]): void {
    this.emitter.emit(name, payload);
  }
  on<K extends keyof EventMap>(name: K, fn: (payload: EventMap[K]) => void): () => void {
    this.emitter.on(name, fn);
    return () => this.emitter.off(name, fn);
  }
}
