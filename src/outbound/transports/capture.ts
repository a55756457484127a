// The capture transport: nothing leaves the machine; the message lands in Mailroom's own inbox,
// where the web UI and the Mailpit-compatible API show it. The default in development and CI.
//
// The inbox copy takes the outbound message's id, so the id the send API returned opens it, and
// it carries every envelope recipient, as one message (a message to two domains is two
// deliveries, but one mail in the inbox). The first delivery of a message stores the copy; the
// others, and any attempt repeated after a crash, find it there: capturing is idempotent.
import type { Envelope } from '../../domain/message.ts';
import type { Spool } from '../../ingest/spool.ts';
import type { Storage } from '../../storage/ports.ts';
import type { DeliveryJob, Transport, TransportResult } from '../transport.ts';

export class CaptureTransport implements Transport {
  readonly name = 'capture';
  private readonly spool: Spool;
  private readonly storage: Storage;
  private readonly now: () => number;

  constructor(deps: { spool: Spool; storage: Storage; now?: () => number }) {
    this.spool = deps.spool;
    this.storage = deps.storage;
    this.now = deps.now ?? Date.now;
  }

  async deliver(job: DeliveryJob): Promise<TransportResult> {
    if (!(await this.captured(job.outboundId))) {
      const outbound = await this.storage.outbound.get(job.outboundId);
      const envelope: Envelope = {
        mailFrom: job.mailFrom,
        rcptTo: outbound?.rcptTo ?? job.recipients,
        clientIp: job.client.ip,
        clientPort: 0,
        helo: '',
        tls: null,
        authUser: job.client.authUser,
        listener: job.source === 'submission' ? 'submission' : 'api',
        receivedAt: new Date(this.now()).toISOString(),
        sessionId: job.deliveryId,
      };
      try {
        await this.spool.accept(envelope, job.raw, job.outboundId);
      } catch (err) {
        // Another delivery of the same message may have stored it a moment ago.
        if (!(await this.captured(job.outboundId))) throw err;
      }
    }
    const reply = `250 2.0.0 captured as ${job.outboundId}`;
    return { results: job.recipients.map((address) => ({ address, outcome: 'delivered', reply })), reply };
  }

  private async captured(id: string): Promise<boolean> {
    return (await this.storage.summaries([id])).length > 0;
  }
}
