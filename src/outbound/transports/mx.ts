// Direct delivery: the recipient domain's MX hosts (RFC 5321 §5.1), in preference order, each
// address tried until one holds a conversation. DNS comes in as a parameter so tests answer it.
// Mail never goes to a loopback, private, link-local or otherwise internal address unless the
// operator allows it: a hostile domain could otherwise point its MX at services on our network.
import net from 'node:net';
import { isInternalAddress } from '../../net/address-policy.ts';
import {
  byReplyCode,
  type Classify,
  DEFAULT_SMTP_LIMITS,
  deliverOverSmtp,
  SmtpAttemptError,
  type SmtpLimits,
  SmtpSessionCache,
} from '../smtp-client.ts';
import type { DeliveryJob, Transport, TransportResult } from '../transport.ts';

/** The part of node:dns/promises' Resolver this transport uses. */
export interface MxResolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface MxOptions {
  resolver: MxResolver;
  heloName: string;
  /** Refuse to send without STARTTLS (else opportunistic, as Postfix's `may`). */
  requireTls: boolean;
  /** Allow internal addresses (loopback, RFC 1918, link-local...): for tests and closed networks. */
  allowInternal: boolean;
  /** 25 everywhere but in tests. */
  port?: number;
  limits?: SmtpLimits;
  classify?: Classify;
  /** Sessions kept between deliveries, per MX address; a cache with the defaults when absent. */
  sessions?: SmtpSessionCache;
}

const code = (err: unknown) => (err as { code?: string }).code ?? '';
/** The name does not exist, or has no records of the type asked. */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

function everyone(job: DeliveryJob, outcome: 'deferred' | 'bounced', reply: string): TransportResult {
  return { results: job.recipients.map((address) => ({ address, outcome, reply })), reply };
}

export class MxTransport implements Transport {
  readonly name = 'mx';
  private readonly o: MxOptions;
  private readonly sessions: SmtpSessionCache;

  constructor(options: MxOptions) {
    this.o = options;
    this.sessions = options.sessions ?? new SmtpSessionCache();
  }

  close(): void {
    this.sessions.close();
  }

  /** MX hosts by preference (random among equals); the domain itself when it has no MX. */
  private async hosts(domain: string): Promise<string[] | TransportResult['reply']> {
    let records: { exchange: string; priority: number }[];
    try {
      records = await this.o.resolver.resolveMx(domain);
    } catch (err) {
      if (ABSENT.has(code(err))) return [domain];
      return `451 4.4.3 MX lookup for ${domain} failed (${code(err) || (err as Error).message})`;
    }
    if (records.length === 0) return [domain];
    // RFC 7505: a single MX of "." says the domain accepts no mail.
    if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
      return `556 5.1.10 ${domain} accepts no mail (null MX, RFC 7505)`;
    }
    return records
      .map((r) => ({ ...r, shuffle: Math.random() }))
      .sort((a, b) => a.priority - b.priority || a.shuffle - b.shuffle)
      .map((r) => r.exchange);
  }

  private async addresses(host: string): Promise<string[]> {
    if (net.isIP(host)) return [host];
    const [v4, v6] = await Promise.all([
      this.o.resolver.resolve4(host).catch(() => [] as string[]),
      this.o.resolver.resolve6(host).catch(() => [] as string[]),
    ]);
    return [...v4, ...v6];
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<TransportResult> {
    const hosts = await this.hosts(job.domain);
    if (typeof hosts === 'string')
      return everyone(job, hosts.startsWith('5') ? 'bounced' : 'deferred', hosts);
    const problems: string[] = [];
    for (const host of hosts) {
      const all = await this.addresses(host);
      const usable = this.o.allowInternal ? all : all.filter((ip) => !isInternalAddress(ip));
      if (all.length === 0) problems.push(`${host} has no address`);
      else if (usable.length === 0)
        problems.push(`${host} resolves only to internal addresses (${all.join(', ')})`);
      for (const ip of usable) {
        try {
          return await deliverOverSmtp(
            {
              host: ip,
              port: this.o.port ?? 25,
              tls: this.o.requireTls ? 'starttls' : 'opportunistic',
              heloName: this.o.heloName,
              // Opportunistic TLS to MX hosts checks no certificate, as Postfix's `may` does: an
              // encrypted session with an unverified host still beats clear text. Required TLS checks.
              verifyTls: this.o.requireTls,
              servername: host,
            },
            { mailFrom: job.mailFrom, recipients: job.recipients, raw: job.raw },
            {
              limits: this.o.limits ?? DEFAULT_SMTP_LIMITS,
              classify: this.o.classify ?? byReplyCode,
              signal,
              sessions: this.sessions,
            },
          );
        } catch (err) {
          if (!(err instanceof SmtpAttemptError)) throw err;
          problems.push(`${host} [${ip}]: ${err.message}`);
        }
      }
    }
    throw new SmtpAttemptError(`no MX host of ${job.domain} took the message: ${problems.join('; ')}`);
  }
}
