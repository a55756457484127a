// mailroom/client: a typed client for Mailroom's HTTP API, with no dependencies beyond fetch.
// Built to JavaScript with declarations (tsconfig.client.json → dist/client) so applications on
// any Node.js version, or a bundler, can import it. Types are written out here rather than
// imported from the server, so the client carries none of the server's code.

export interface Mailbox {
  Email: string;
  Name?: string;
}

export interface Attachment {
  /** Base64 of the content (a data: URL prefix is allowed). */
  Content: string;
  Filename: string;
  ContentType?: string;
  /** Set for an inline part referenced from the HTML as cid:<ContentID>. */
  ContentID?: string;
}

/** Mailpit's send body. */
export interface SendRequest {
  From: Mailbox;
  To?: Mailbox[];
  Cc?: Mailbox[];
  Bcc?: string[];
  ReplyTo?: Mailbox[];
  Subject?: string;
  Text?: string;
  HTML?: string;
  Attachments?: Attachment[];
  Tags?: string[];
  Headers?: Record<string, string>;
  /** A stored template for Subject, Text and HTML (give none of them), and its values. */
  Template?: string;
  TemplateData?: Record<string, unknown>;
  /** Deliver no earlier than this (ISO 8601, at most 30 days ahead). */
  SendAt?: string;
  /** Your own values, kept with the message and returned with its status; never sent. */
  Metadata?: Record<string, string>;
  /** Open pixel and click redirects in the HTML (the server needs --tracking-url); unset follows its defaults. */
  Tracking?: { Opens?: boolean; Clicks?: boolean };
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

export type DeliveryState =
  | 'queued'
  | 'sending'
  | 'deferred'
  | 'held'
  | 'delivered'
  | 'bounced'
  | 'expired'
  | 'cancelled';

export interface Delivery {
  ID: string;
  MessageID: string;
  Domain: string;
  State: DeliveryState;
  Attempts: number;
  NextAttemptAt: string;
  ExpiresAt: string;
  LastReply: string | null;
  CreatedAt: string;
  UpdatedAt: string;
  Recipients: { Address: string; State: string; Reply: string | null }[];
}

export interface OutboundMessage {
  ID: string;
  MessageID: string;
  MailFrom: string;
  RcptTo: string[];
  Size: number;
  Source: 'api' | 'submission' | 'system';
  Tags: string[];
  Metadata: Record<string, string>;
  QueuedAt: string;
  SendAt: string;
  Deliveries: Delivery[];
  Events: {
    ID: string;
    Type: string;
    At: string;
    DeliveryID: string | null;
    Data: Record<string, unknown>;
  }[];
}

export interface Suppression {
  Address: string;
  Reason: 'hard-bounce' | 'complaint' | 'unsubscribe' | 'manual';
  Detail: string | null;
  CreatedAt: string;
  ExpiresAt: string | null;
}

export type BatchResult = { ID: string } | { Error: Problem };

export type KeyScope = 'send' | 'read' | 'manage';

/** A stored API key as the API shows it: never its secret. */
export interface ApiKey {
  /** The key reads mr_<ID>_<secret>. */
  ID: string;
  Name: string;
  Scopes: KeyScope[];
  State: 'active' | 'expired' | 'revoked';
  CreatedAt: string;
  /** Updated at most about once a minute. */
  LastUsedAt: string | null;
  ExpiresAt: string | null;
  RevokedAt: string | null;
}

/** A key just made: `Key` is the whole key, for ClientOptions.token; it is never shown again. */
export interface CreatedApiKey extends ApiKey {
  Key: string;
}

export interface CreateKeyRequest {
  Name: string;
  /** At most the scopes of the credentials this client uses. */
  Scopes: KeyScope[];
  /** ISO 8601, in the future; the key never expires when absent. */
  ExpiresAt?: string;
}

/** An address as the messages API shows it. */
export interface MessageAddress {
  Name: string;
  Address: string;
}

/** A stored message as GET /api/v1/messages lists it (Mailpit's summary plus Mailroom's envelope). */
export interface MessageSummary {
  ID: string;
  MessageID: string;
  Read: boolean;
  From: MessageAddress | null;
  To: MessageAddress[];
  Cc: MessageAddress[];
  Bcc: MessageAddress[];
  ReplyTo: MessageAddress[];
  Subject: string;
  Created: string;
  Username: string;
  Tags: string[];
  Size: number;
  Attachments: number;
  Snippet: string;
  Envelope: {
    MailFrom: string;
    RcptTo: string[];
    ClientIP: string;
    ClientPort: number;
    Helo: string;
    TLS: { Protocol: string; Cipher: string } | null;
    AuthUser: string | null;
    Listener: string;
    ReceivedAt: string;
    SessionID: string;
  };
  ParseState: 'pending' | 'parsed' | 'failed';
  ParseError: string | null;
}

/** What a wait answers: the message, and its cursor for the next wait's `after`. */
export interface WaitResult {
  Cursor: string;
  Message: MessageSummary;
}

export interface WaitOptions {
  /** Milliseconds, or a duration with a unit ('500ms', '30s', '2m'); 30 seconds by default. */
  timeout?: number | string;
  /**
   * Only messages stored after this cursor (from waitCursor() or an earlier wait), oldest first;
   * without it, the newest matching message.
   */
  after?: string;
  /** IANA time zone for before: and after: dates in the search. */
  tz?: string;
  signal?: AbortSignal;
}

/** One request waits at most this long; a longer wait is several, so no proxy or fetch timeout cuts it. */
const WAIT_SLICE_MS = 60_000;

function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim());
  if (!m) throw new TypeError(`timeout "${value}" is not a duration such as 500ms, 30s or 2m`);
  return Math.round(Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[m[2]!]!);
}

export interface ClientOptions {
  /** A bearer token (--http-tokens), or a stored API key (mr_…). */
  token?: string;
  /** Basic-auth credentials (--http-auth-file). */
  basicAuth?: { user: string; password: string };
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export interface SendOptions {
  /** Makes a retry of the same request safe for 24 hours. */
  idempotencyKey?: string;
  /**
   * Answer as soon as the message is durably queued (202), the default; false waits like
   * Mailpit's send (with the capture transport, until the message is in the inbox).
   */
  async?: boolean;
}

/** A response that was not a success: the API's problem JSON, with its status. */
export class MailroomError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallback: string) {
    super(problem ? `${problem.title}: ${problem.detail}` : fallback);
    this.name = 'MailroomError';
    this.status = status;
    this.problem = problem;
  }
}

export class MailroomClient {
  private readonly base: string;
  private readonly options: ClientOptions;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.options = options;
  }

  /** Queues one message; resolves with its ID. */
  async send(message: SendRequest, options: SendOptions = {}): Promise<{ ID: string }> {
    return this.request('POST', '/api/v1/send', message, this.sendHeaders(options));
  }

  /** Queues up to 500 messages; one result per message, in order. */
  async sendBatch(messages: SendRequest[], options: SendOptions = {}): Promise<BatchResult[]> {
    const r = await this.request<{ Results: BatchResult[] }>(
      'POST',
      '/api/v1/send/batch',
      messages,
      this.sendHeaders(options),
    );
    return r.Results;
  }

  /** A queued message with its deliveries, each recipient's reply, and every event. */
  outbound(id: string): Promise<OutboundMessage> {
    return this.request('GET', `/api/v1/outbound/${encodeURIComponent(id)}`);
  }

  async queue(query: { state?: DeliveryState; start?: number; limit?: number } = {}): Promise<Delivery[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const r = await this.request<{ deliveries: Delivery[] }>('GET', `/api/v1/queue?${params}`);
    return r.deliveries;
  }

  queueAction(deliveryId: string, action: 'hold' | 'release' | 'retry' | 'cancel'): Promise<Delivery> {
    return this.request('POST', `/api/v1/queue/${encodeURIComponent(deliveryId)}/${action}`);
  }

  async suppressions(query: { start?: number; limit?: number } = {}): Promise<Suppression[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    return (await this.request<{ suppressions: Suppression[] }>('GET', `/api/v1/suppressions?${params}`))
      .suppressions;
  }

  suppress(entry: { Address: string; Reason?: Suppression['Reason']; Detail?: string; ExpiresAt?: string }) {
    return this.request<Suppression>('PUT', '/api/v1/suppressions', entry);
  }

  async unsuppress(address: string): Promise<void> {
    await this.request('DELETE', `/api/v1/suppressions/${encodeURIComponent(address)}`);
  }

  /** Makes an API key (needs the manage scope); the returned `Key` is shown this once only. */
  createKey(request: CreateKeyRequest): Promise<CreatedApiKey> {
    return this.request('POST', '/api/v1/keys', request);
  }

  /** Stored API keys, newest first, revoked and expired ones included. */
  async listKeys(query: { start?: number; limit?: number } = {}): Promise<ApiKey[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    return (await this.request<{ keys: ApiKey[] }>('GET', `/api/v1/keys?${params}`)).keys;
  }

  getKey(id: string): Promise<ApiKey> {
    return this.request('GET', `/api/v1/keys/${encodeURIComponent(id)}`);
  }

  /** Revokes a key: it stops working at once on the server that answers, within seconds on others. */
  async revokeKey(id: string): Promise<void> {
    await this.request('DELETE', `/api/v1/keys/${encodeURIComponent(id)}`);
  }

  /**
   * Waits for a (parsed) message matching a Mailpit-syntax search ('' matches any), resolving at
   * once if one is there. Rejects with a MailroomError of status 408 when none arrived in time.
   * Give each wait the Cursor of the one before (or of waitCursor()) to see each message once.
   */
  async waitFor(query: string, options: WaitOptions = {}): Promise<WaitResult> {
    const deadline = Date.now() + durationMs(options.timeout ?? 30_000);
    for (;;) {
      const left = Math.max(0, deadline - Date.now());
      const slice = Math.min(left, WAIT_SLICE_MS);
      const params = new URLSearchParams({ query, timeout: `${slice}ms` });
      if (options.after !== undefined) params.set('after', options.after);
      if (options.tz !== undefined) params.set('tz', options.tz);
      try {
        return await this.request<WaitResult>('GET', `/api/v1/wait?${params}`, undefined, {}, options.signal);
      } catch (err) {
        // Only a slice ran out: the next one carries on with the same cursor.
        if (err instanceof MailroomError && err.status === 408 && slice < left) continue;
        throw err;
      }
    }
  }

  /** The cursor of the newest stored message: waitFor(…, { after }) then sees only later mail. */
  async waitCursor(): Promise<string> {
    return (await this.request<{ Cursor: string }>('GET', '/api/v1/wait/cursor')).Cursor;
  }

  private sendHeaders(options: SendOptions): Record<string, string> {
    return {
      ...(options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {}),
      ...(options.async === false ? {} : { Prefer: 'respond-async' }),
    };
  }

  private async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    else if (this.options.basicAuth) {
      const { user, password } = this.options.basicAuth;
      headers.Authorization = `Basic ${btoa(`${user}:${password}`)}`;
    }
    const doFetch = this.options.fetch ?? fetch;
    const res = await doFetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    if (!res.ok) {
      let problem: Problem | null = null;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        // Not a problem document (a proxy's error page, say).
      }
      throw new MailroomError(res.status, problem, `${method} ${path}: HTTP ${res.status}`);
    }
    const type = res.headers.get('content-type') ?? '';
    return (type.includes('json') ? JSON.parse(text) : text) as T;
  }
}
