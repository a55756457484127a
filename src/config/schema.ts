// The one schema for every setting: name, type, default, env var, CLI flag and doc line.
// `docs/config.md` and `mailroom start --help` are generated from this table.
import os from 'node:os';

export type SettingType = 'string' | 'int' | 'bool' | 'size' | 'duration' | 'listen' | 'list' | 'enum';

export interface Setting {
  /** camelCase key in the Config object; the flag is its kebab-case form, the env var MAILROOM_ + SNAKE_CASE. */
  key: string;
  type: SettingType;
  default: string | number | boolean | string[];
  doc: string;
  /** Allowed values for `enum`, and for every item of a `list`. */
  values?: string[];
  /** Inclusive bounds for numeric types (after unit parsing). */
  min?: number;
  max?: number;
  /** The value must not be logged or printed. */
  secret?: boolean;
}

const MiB = 1024 * 1024;

export const SETTINGS = [
  {
    key: 'roles',
    type: 'list',
    default: ['smtp', 'api', 'worker'],
    values: ['smtp', 'api', 'worker'],
    doc: 'Roles this process runs: smtp (listeners), api (HTTP API and UI), worker (parsing and pipeline).',
  },
  {
    key: 'dataDir',
    type: 'string',
    default: './data',
    doc: 'Directory for the SQLite database and generated TLS material.',
  },
  {
    key: 'databaseUrl',
    type: 'string',
    default: '',
    secret: true,
    doc: 'A postgres:// URL selects PostgreSQL (shared by several nodes); empty uses SQLite in the data directory.',
  },
  {
    key: 'smtpListen',
    type: 'listen',
    default: '127.0.0.1:1025',
    doc: 'Plain SMTP listener (MX or sandbox) as host:port; STARTTLS is offered; empty disables it.',
  },
  {
    key: 'submissionListen',
    type: 'listen',
    default: '',
    doc: 'Submission listener (RFC 6409, usually :587) as host:port: STARTTLS, then AUTH is required. Empty disables it.',
  },
  {
    key: 'smtpsListen',
    type: 'listen',
    default: '',
    doc: 'Implicit-TLS submission listener (RFC 8314, usually :465) as host:port; AUTH is required. Empty disables it.',
  },
  {
    key: 'httpListen',
    type: 'listen',
    default: '127.0.0.1:8025',
    doc: 'HTTP API and web UI listener as host:port.',
  },
  {
    key: 'smtpHostname',
    type: 'string',
    default: os.hostname() || 'mailroom',
    doc: 'Host name announced in the SMTP greeting and Received headers.',
  },
  {
    key: 'tlsCert',
    type: 'string',
    default: '',
    doc: 'PEM certificate file for STARTTLS and implicit TLS; empty generates a self-signed one in the data directory.',
  },
  { key: 'tlsKey', type: 'string', default: '', doc: 'PEM private key file matching --tls-cert.' },
  {
    key: 'smtpAuthFile',
    type: 'string',
    default: '',
    doc: 'Users for SMTP AUTH, one "user:hash" per line (htpasswd bcrypt, or scrypt from `mailroom hash-password`).',
  },
  {
    key: 'smtpAuthAcceptAny',
    type: 'bool',
    default: false,
    doc: 'Accept any AUTH credentials (sandbox use); the user name is still recorded on each message.',
  },
  {
    key: 'smtpAuthAllowInsecure',
    type: 'bool',
    default: false,
    doc: 'Allow AUTH on a connection without TLS. For local development only: passwords cross the wire in clear.',
  },
  {
    key: 'smtpRequireAuth',
    type: 'bool',
    default: false,
    doc: 'Require AUTH on the plain listener too (submission and SMTPS listeners always require it).',
  },
  {
    key: 'maxMessageSize',
    type: 'size',
    default: 25 * MiB,
    min: 1024,
    max: 2048 * MiB,
    doc: 'Largest message accepted, in bytes (suffixes KB, MB, GB); announced in the EHLO SIZE keyword.',
  },
  {
    key: 'maxRecipients',
    type: 'int',
    default: 100,
    min: 1,
    max: 100000,
    doc: 'Most RCPT TO accepted per message; further ones get 452 4.5.3 and the earlier ones are kept.',
  },
  {
    key: 'smtpMaxLineLength',
    type: 'int',
    default: 0,
    min: 0,
    max: 1_000_000_000,
    doc: 'Refuse a message with a line longer than this many octets, CRLF included (RFC 5321 sets 1000); 0 accepts any length, as Postfix and Mailpit do.',
  },
  {
    key: 'maxConnectionsPerIp',
    type: 'int',
    default: 100,
    min: 1,
    max: 100000,
    doc: 'Most simultaneous SMTP connections from one client IP address; more are refused with 421 4.7.0.',
  },
  {
    key: 'maxConnections',
    type: 'int',
    default: 1000,
    min: 1,
    max: 1000000,
    doc: 'Most simultaneous SMTP connections in all; more are refused with 421 4.3.2.',
  },
  {
    key: 'maxBadCommands',
    type: 'int',
    default: 10,
    min: 1,
    max: 1000,
    doc: 'Unknown or malformed commands tolerated per session before 421 and close.',
  },
  {
    key: 'maxAuthFailures',
    type: 'int',
    default: 3,
    min: 1,
    max: 100,
    doc: 'Failed AUTH attempts tolerated per session before 421 and close.',
  },
  {
    key: 'smtpCommandTimeout',
    type: 'duration',
    default: 60_000,
    min: 100,
    max: 3_600_000,
    doc: 'Absolute deadline for one command line to arrive in full, once its first byte has (suffixes ms, s, m, h).',
  },
  {
    key: 'smtpIdleTimeout',
    type: 'duration',
    default: 120_000,
    min: 100,
    max: 3_600_000,
    doc: 'Close a session that sends nothing for this long.',
  },
  {
    key: 'smtpDataTimeout',
    type: 'duration',
    default: 600_000,
    min: 100,
    max: 86_400_000,
    doc: 'Absolute deadline for the whole DATA phase of one message.',
  },
  {
    key: 'smtpSessionTimeout',
    type: 'duration',
    default: 1_800_000,
    min: 100,
    max: 86_400_000,
    doc: 'Absolute deadline for a whole SMTP session, however busy.',
  },
  {
    key: 'smtpGreetPause',
    type: 'duration',
    default: 0,
    min: 0,
    max: 30_000,
    doc: 'Wait this long in silence before the SMTP greeting, as Postfix postscreen does on an MX; a client that sends anything first is refused with 554 5.5.1. 0 greets at once, still refusing a client that talks straight after connecting. Keep it below --smtp-idle-timeout.',
  },
  {
    key: 'parseWorkers',
    type: 'int',
    default: Math.max(1, Math.min(4, os.availableParallelism() - 1)),
    min: 1,
    max: 64,
    doc: 'Worker threads that parse MIME off the SMTP hot path.',
  },
  {
    key: 'parseTimeout',
    type: 'duration',
    default: 10_000,
    min: 100,
    max: 600_000,
    doc: 'Time budget for parsing one message; past it the worker is stopped and the message kept with the error.',
  },
  {
    key: 'parseMemory',
    type: 'size',
    default: 256 * MiB,
    min: 16 * MiB,
    max: 16384 * MiB,
    doc: 'Heap budget of each parse worker; a message that exceeds it is kept with the error.',
  },
  {
    key: 'parseDefer',
    type: 'duration',
    default: 1_000,
    min: 0,
    max: 600_000,
    doc: 'While SMTP takes mail in a burst, parsing waits up to this long so the door keeps its full speed; the wait ends when the burst does (0: parse at once).',
  },
  {
    key: 'parseWorkerIdle',
    type: 'duration',
    default: 5_000,
    min: 0,
    max: 86_400_000,
    doc: 'A parse worker with nothing to do for this long exits, and the next message starts one (30–60 ms); 0 keeps them running.',
  },
  {
    key: 'httpAuthFile',
    type: 'string',
    default: '',
    doc: 'htpasswd file (bcrypt or scrypt, see `mailroom hash-password`) whose users may sign in to the web UI and API with basic auth.',
  },
  {
    key: 'httpTokens',
    type: 'list',
    default: [],
    secret: true,
    doc: 'API tokens accepted as `Authorization: Bearer <token>` (comma-separated); each is at least 24 characters. Written `<token>:send`, `<token>:read+manage` ..., a token has only those scopes: send (the send endpoints), read (every GET), manage (every other change).',
  },
  {
    key: 'httpAllowUnauthenticated',
    type: 'bool',
    default: false,
    doc: 'Serve the UI and API without credentials on a non-loopback --http-listen (refused at start otherwise).',
  },
  {
    key: 'httpAllowedHosts',
    type: 'list',
    default: [],
    doc: 'Host names accepted in the HTTP Host header besides loopback names and the listen address (DNS-rebinding guard): `*.example.com` matches sub-domains, `*` accepts any. Listed names are also trusted as request Origins.',
  },
  {
    key: 'waitMaxWaiters',
    type: 'int',
    default: 100,
    min: 1,
    max: 10_000,
    doc: 'Requests that may wait at once at GET /api/v1/wait (long polls of at most 5 minutes each); one more is answered 503 with Retry-After.',
  },
  {
    key: 'uiLabel',
    type: 'string',
    default: '',
    doc: 'A label shown in the web UI to tell this Mailroom from others (e.g. "staging").',
  },
  {
    key: 'retainMessages',
    type: 'int',
    default: 100_000,
    min: 0,
    max: 100_000_000,
    doc: 'Keep at most this many messages, pruning the oldest; 0 keeps any number.',
  },
  {
    key: 'retainAge',
    type: 'duration',
    default: 0,
    min: 0,
    max: 10 * 365 * 24 * 3600_000,
    doc: 'Prune messages received longer ago than this (e.g. 7d); 0 keeps them whatever their age.',
  },
  {
    key: 'retainSize',
    type: 'size',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'Keep at most this many bytes of raw messages in total, pruning the oldest; 0 sets no cap.',
  },
  {
    key: 'tagsFromHeader',
    type: 'bool',
    default: true,
    doc: 'Tag messages with the comma-separated names in their X-Tags header.',
  },
  {
    key: 'tagsFromPlusAddress',
    type: 'bool',
    default: true,
    doc: 'Tag messages with the +tag part of their recipient addresses (user+tag@example.com).',
  },
  {
    key: 'tagsFromUsername',
    type: 'bool',
    default: false,
    doc: 'Tag messages with the SMTP AUTH user name that submitted them.',
  },
  {
    key: 'tagRulesFile',
    type: 'string',
    default: '',
    doc: 'JSON file of tag rules, `[{"match": "<search>", "tags": ["name"]}]`: a message matching the search gets the tags.',
  },
  {
    key: 'localDomains',
    type: 'list',
    default: [],
    doc: 'MX mode: the domains this server receives mail for. Unauthenticated mail to other domains is refused (550 5.7.1), and to addresses no route takes (550 5.1.1) unless a route has no recipient condition. Empty: every recipient is accepted (the capture sandbox).',
  },
  {
    key: 'poll',
    type: 'list',
    default: [],
    secret: true,
    doc: 'Outside mailboxes to import mail from, one URL each: imaps://user:password@host/Mailbox or pop3s://user:password@host, with ?after=leave|flag|move|delete, move-to=, flag=, interval=60s, idle=false, name=, max-bytes=, tls=starttls|none (imap:// and pop3:// upgrade with STARTTLS; none only for a test rig). Imported mail is routed like MX mail. See docs/pollers.md.',
  },
  {
    key: 'forwardDomain',
    type: 'string',
    default: '',
    doc: "Domain of the envelope sender forward actions rewrite to (SRS0=…@domain), so the next server's SPF check passes; its SPF record must list this server, and it must be one of --local-domains, so that bounces sent back to those addresses are taken and returned to the original senders. Empty: the first --local-domains entry.",
  },
  {
    key: 'srsSecret',
    type: 'list',
    default: [],
    secret: true,
    doc: 'Keys (32+ characters each, the same on every node) that sign SRS addresses of forwarded mail; the first signs, all verify, so a key can be rotated. Forward actions fail without one.',
  },
  {
    key: 'inbox',
    type: 'list',
    default: [],
    doc: 'Separate inboxes: `team-a?users=alice&recipients=*@team-a.test&recipients=qa+a-*@example.com`. Mail from an SMTP user listed in `users` lands in that inbox; other mail in the first inbox with a matching recipient pattern, else in `default`. Those users (SMTP and --http-auth-file) and tokens written `<secret>@team-a` or `<secret>:read@team-a` see only that inbox. See docs/testing-tools.md.',
  },
  {
    key: 'desk',
    type: 'list',
    default: [],
    doc: 'Support desks, one per domain: `support.example?intake=new&prefix=SUPPORT&first=1&ack=on&from-name=Support` (also name=, ack-text=, ack-per-hour=3, auto-per-sender=5, auto-per-ticket=20). Mail to intake@domain opens a ticket; PREFIX-<n>@domain is its address. In MX mode the domain must be one of --local-domains. See docs/tickets.md.',
  },
  {
    key: 'ticketSecret',
    type: 'list',
    default: [],
    secret: true,
    doc: "Keys (32+ characters each, the same on every node) that sign tickets' reply addresses and Message-IDs, so replies are recognised and strangers cannot join a ticket; the first signs, all verify. Needed with --desk.",
  },
  {
    key: 'ticketWebhook',
    type: 'list',
    default: [],
    doc: 'URLs that get every ticket event (ticket:created|replied|updated|status_changed|held) as a signed POST (--webhook-secret), in order, retried with backoff.',
  },
  {
    key: 'routesFile',
    type: 'string',
    default: '',
    doc: 'JSON file of inbound routes (an array of routes as the /api/v1/routes API takes them, each with its ID); read at start-up, read-only through the API.',
  },
  {
    key: 'routeBudget',
    type: 'duration',
    default: 250,
    min: 10,
    max: 10_000,
    doc: "Time one message's route conditions may take; a route that runs past it (a runaway regular expression) does not match, and the next is tried.",
  },
  {
    key: 'webhookSecret',
    type: 'list',
    default: [],
    doc: 'Keys that sign webhook payloads (HMAC-SHA256, at least 32 characters each); the first is current, the others are kept while receivers rotate. See docs/webhooks.md.',
  },
  {
    key: 'webhookAllow',
    type: 'list',
    default: [],
    doc: 'Hosts or CIDR ranges webhooks and message link checks may reach although internal (loopback, private, link-local); none by default.',
  },
  {
    key: 'linkCheckTimeout',
    type: 'duration',
    default: 10_000,
    min: 100,
    max: 60_000,
    doc: "How long the link check (GET /api/v1/message/{ID}/link-check) waits for one request to a message's link, connecting included; each redirect hop gets as long again.",
  },
  {
    key: 'webhookTimeout',
    type: 'duration',
    default: 10_000,
    min: 1000,
    max: 120_000,
    doc: 'How long one webhook attempt may take, connecting included.',
  },
  {
    key: 'webhookDisableAfter',
    type: 'int',
    default: 100,
    min: 0,
    max: 1_000_000,
    doc: "Failed attempts in a row (any route, any message; a success resets the count) that disable a webhook URL until it is enabled through /api/v1/webhooks/endpoints/enable; 0 never disables. 100 is five messages' whole retry schedules (about 20 tries each over 26 hours) without one success, so a blip does not trip it; a busy endpoint reaches it sooner, so raise it there.",
  },
  {
    key: 'publicUrl',
    type: 'string',
    default: '',
    doc: "Public base URL of this server's HTTP API as webhook receivers reach it, e.g. https://mail.example.com; webhook attachment download URLs start with it. Empty: webhooks asking for attachment URLs get a URLError per attachment instead.",
  },
  {
    key: 'attachmentUrlSecret',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Key (32+ characters, the same on every node) that signs attachment download URLs. Deliberately not a webhook secret: every receiver knows those and could forge URLs for mail routed elsewhere. Changing it voids the URLs already sent.',
  },
  {
    key: 'attachmentUrlLifetime',
    type: 'duration',
    default: 604_800_000,
    min: 60_000,
    max: 2_592_000_000,
    doc: 'How long an attachment download URL works after the attempt that carried it (each retry signs afresh, so the 26-hour retry window does not eat into it). 7 days lets a receiver that queues webhooks, or replays them from its own log after a fix, still fetch the parts a week later, while a leaked payload opens the mail for a bounded time.',
  },
  {
    key: 'spamassassin',
    type: 'string',
    default: '',
    doc: "host:port of a SpamAssassin spamd to score each message (Mailpit's sa-check); empty disables it.",
  },
  {
    key: 'rspamd',
    type: 'string',
    default: '',
    doc: 'Base URL of an Rspamd controller/normal worker (http://host:11333) to score each message; empty disables it.',
  },
  {
    key: 'spamTimeout',
    type: 'duration',
    default: 10_000,
    min: 100,
    max: 120_000,
    doc: 'Deadline for one spam check.',
  },
  {
    key: 'outboundTransport',
    type: 'enum',
    default: 'capture',
    values: ['capture', 'relay', 'mx'],
    doc: "Where queued outbound mail goes: capture keeps it in the inbox (nothing leaves the machine); relay sends everything to --relay-host; mx delivers to each domain's MX hosts.",
  },
  {
    key: 'mxRequireTls',
    type: 'bool',
    default: false,
    doc: 'With --outbound-transport mx: send only over STARTTLS with a verified certificate (otherwise STARTTLS when offered, unverified, as Postfix\'s "may").',
  },
  {
    key: 'mxAllowInternal',
    type: 'bool',
    default: false,
    doc: 'With --outbound-transport mx: allow MX hosts on loopback, private and link-local addresses (closed networks and tests only).',
  },
  {
    key: 'mxPort',
    type: 'int',
    default: 25,
    min: 1,
    max: 65535,
    doc: 'With --outbound-transport mx: the port of MX hosts (25; another value only for test networks).',
  },
  {
    key: 'dkimKeys',
    type: 'list',
    default: [],
    doc: 'DKIM signing keys as domain:selector:key-file (PEM, RSA or Ed25519; see `mailroom dkim keygen`). Mail whose From is in the domain, or below it, is signed when queued.',
  },
  {
    key: 'relayHost',
    type: 'listen',
    default: '',
    doc: 'The smarthost for --outbound-transport relay, as host:port (a provider endpoint, usually port 587 or 465).',
  },
  {
    key: 'relayTls',
    type: 'enum',
    default: 'starttls',
    values: ['starttls', 'implicit', 'opportunistic', 'none'],
    doc: 'TLS to the smarthost: starttls (required), implicit (TLS from the start, port 465), opportunistic (STARTTLS when offered), none.',
  },
  {
    key: 'relayUser',
    type: 'string',
    default: '',
    doc: 'User name for AUTH at the smarthost; empty sends without AUTH.',
  },
  {
    key: 'relayPassword',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Password for AUTH at the smarthost (prefer the MAILROOM_RELAY_PASSWORD environment variable).',
  },
  {
    key: 'relayVerifyTls',
    type: 'bool',
    default: true,
    doc: "Check the smarthost's certificate against its host name; turn off only for a test server.",
  },
  {
    key: 'deliveryConcurrency',
    type: 'int',
    default: 20,
    min: 1,
    max: 1000,
    doc: 'Deliveries one worker node attempts at once.',
  },
  {
    key: 'destinationConcurrency',
    type: 'int',
    default: 20,
    min: 1,
    max: 1000,
    doc: 'Deliveries to one recipient domain at once, over all nodes (Postfix default_destination_concurrency_limit).',
  },
  {
    key: 'destinationRate',
    type: 'int',
    default: 0,
    min: 0,
    max: 1_000_000,
    doc: 'Attempts started per minute for one recipient domain, over all nodes; 0 for no limit.',
  },
  {
    key: 'deliveryLease',
    type: 'duration',
    default: 600_000,
    min: 10_000,
    max: 86_400_000,
    doc: 'How long a claimed delivery belongs to its worker; after that (a node that died) another node takes it.',
  },
  {
    key: 'retryFirst',
    type: 'duration',
    default: 300_000,
    min: 1_000,
    max: 86_400_000,
    doc: 'Delay before the second attempt of a deferred delivery; it doubles after each failure (Postfix minimal_backoff_time).',
  },
  {
    key: 'retryMax',
    type: 'duration',
    default: 4_000_000,
    min: 1_000,
    max: 86_400_000,
    doc: 'The retry delay stops doubling here (Postfix maximal_backoff_time).',
  },
  {
    key: 'queueLifetime',
    type: 'duration',
    default: 432_000_000,
    min: 60_000,
    max: 31_536_000_000,
    doc: 'A message still undelivered this long after it was queued expires (Postfix maximal_queue_lifetime, 5 days).',
  },
  {
    key: 'trackingUrl',
    type: 'string',
    default: '',
    doc: "Public base URL recipients reach this server's /t/ paths at (open pixel, click redirects), e.g. https://mail.example.com; empty turns tracking off.",
  },
  {
    key: 'trackingSecret',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Key (32+ characters, the same on every node) that signs tracking links, so they cannot be forged or used as an open redirect.',
  },
  {
    key: 'trackOpens',
    type: 'bool',
    default: false,
    doc: 'Add the open pixel to the HTML of sent messages that do not say otherwise (Tracking.Opens); needs --tracking-url.',
  },
  {
    key: 'trackClicks',
    type: 'bool',
    default: false,
    doc: 'Send the web links of sent HTML through signed click redirects unless a message says otherwise (Tracking.Clicks); needs --tracking-url.',
  },
  {
    key: 'chaosEnabled',
    type: 'bool',
    default: false,
    doc: 'Chaos testing: GET/PUT /api/v1/chaos set failures and delays at SMTP stages (see docs/testing-tools.md); nothing fails until a trigger is set. Not with --local-domains: an MX never plays chaos.',
  },
  {
    key: 'chaos',
    type: 'string',
    default: '',
    doc: "Chaos triggers at start (turns chaos on): `stage:key=value,key=value;stage:...` with stages connect, auth, mail, rcpt, data and keys code (400-599), probability (0-100; 100 when the entry gives code or disconnect, else 0), latency (500ms, 2s: before every reply of the stage) and disconnect (a failure closes the connection without a reply). Mailpit's `Sender:451:30,Recipient:451:30` works too.",
  },
  {
    key: 'chaosListeners',
    type: 'list',
    default: ['smtp'],
    values: ['smtp', 'submission', 'smtps'],
    doc: 'Listeners chaos applies to. A session whose mail is queued for delivery (an authenticated user with --outbound-transport relay or mx) is never touched from MAIL FROM on.',
  },
  {
    key: 'chaosSeed',
    type: 'int',
    default: 0,
    min: 0,
    max: 4_294_967_295,
    doc: 'Seed for the chaos dice, so that a run can be repeated; 0 seeds from the system.',
  },
  {
    key: 'releaseHost',
    type: 'listen',
    default: '',
    doc: 'SMTP server that POST /api/v1/message/{ID}/release sends captured messages on to, as host:port; empty turns release off.',
  },
  {
    key: 'releaseTls',
    type: 'enum',
    default: 'starttls',
    values: ['starttls', 'implicit', 'opportunistic', 'none'],
    doc: 'TLS to the release server: starttls (required), implicit (TLS from the start, port 465), opportunistic (STARTTLS when offered), none.',
  },
  {
    key: 'releaseVerifyTls',
    type: 'bool',
    default: true,
    doc: "Check the release server's certificate against its host name; turn off only for a test server.",
  },
  {
    key: 'releaseUser',
    type: 'string',
    default: '',
    doc: 'User name for AUTH at the release server; empty sends without AUTH.',
  },
  {
    key: 'releasePassword',
    type: 'string',
    default: '',
    secret: true,
    doc: 'Password for AUTH at the release server (prefer MAILROOM_RELEASE_PASSWORD or --release-password-file).',
  },
  {
    key: 'releasePasswordFile',
    type: 'string',
    default: '',
    doc: 'File whose first line is the password for AUTH at the release server (instead of --release-password).',
  },
  {
    key: 'releaseAllow',
    type: 'list',
    default: [],
    doc: 'Recipients messages may be released to: globs matching the whole address (`*@example.test`; `*` any run, `?` one character; case ignored) or regular expressions between slashes, searched in the address (`/^qa-[0-9]+@example[.]test$/i`); no commas inside a pattern. Empty: any recipient not blocked.',
  },
  {
    key: 'releaseBlock',
    type: 'list',
    default: [],
    doc: 'Recipients messages are never released to, in the form of --release-allow; a blocked address is refused even when allowed.',
  },
  {
    key: 'releaseFrom',
    type: 'string',
    default: '',
    doc: 'Released messages go out with this address as From and as envelope sender (a relay that takes only its own senders); empty keeps From and the envelope sender the message arrived with.',
  },
  {
    key: 'logLevel',
    type: 'enum',
    default: 'info',
    values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    doc: 'Least severe log level written (JSON lines on stdout).',
  },
] as const satisfies readonly Setting[];

export type SettingKey = (typeof SETTINGS)[number]['key'];

type ValueOf<T extends SettingType> = T extends 'int' | 'size' | 'duration'
  ? number
  : T extends 'bool'
    ? boolean
    : T extends 'list'
      ? readonly string[]
      : string;

export type Config = {
  readonly [S in (typeof SETTINGS)[number] as S['key']]: ValueOf<S['type']>;
} & { readonly sources: Readonly<Record<string, 'default' | 'file' | 'env' | 'flag'>> };

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(key: string): string {
  return `MAILROOM_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}
