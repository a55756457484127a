// The relay transport (a smarthost): every delivery goes to one configured SMTP server, such as a
// provider's submission endpoint, with its TLS mode and credentials. The server's replies decide
// each recipient's outcome, as they would from the recipient's own MX.
import {
  byReplyCode,
  type Classify,
  DEFAULT_SMTP_LIMITS,
  deliverOverSmtp,
  type SmtpLimits,
  SmtpSessionCache,
  type SmtpTarget,
} from '../smtp-client.ts';
import type { DeliveryJob, Transport, TransportResult } from '../transport.ts';

export class RelayTransport implements Transport {
  readonly name = 'relay';
  private readonly target: SmtpTarget;
  private readonly limits: SmtpLimits;
  private readonly classify: Classify;
  private readonly sessions: SmtpSessionCache;

  constructor(options: {
    target: SmtpTarget;
    limits?: SmtpLimits;
    classify?: Classify;
    /** Sessions kept between deliveries; a cache with the defaults when absent. */
    sessions?: SmtpSessionCache;
  }) {
    this.target = options.target;
    this.limits = options.limits ?? DEFAULT_SMTP_LIMITS;
    this.classify = options.classify ?? byReplyCode;
    this.sessions = options.sessions ?? new SmtpSessionCache();
  }

  close(): void {
    this.sessions.close();
  }

  deliver(job: DeliveryJob, signal: AbortSignal): Promise<TransportResult> {
    return deliverOverSmtp(
      this.target,
      { mailFrom: job.mailFrom, recipients: job.recipients, raw: job.raw },
      { limits: this.limits, classify: this.classify, signal, sessions: this.sessions },
    );
  }
}
