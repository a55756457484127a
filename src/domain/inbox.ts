// Inboxes (--inbox): separate mailboxes in one Mailroom, so several teams or test runs share a
// server without seeing each other's mail. Pure rules, no I/O: how an inbox is written, and which
// inbox a message is filed in when it is accepted.
//
//   --inbox 'team-a?users=alice&recipients=*@team-a.test&recipients=qa+a-*@example.com'
//
// A message goes to the inbox of the SMTP user who sent it (`users`: names in --smtp-auth-file);
// unauthenticated, to the first inbox (in the order given) with a recipient pattern matching one of
// its envelope recipients; else to the inbox called `default`. The same `users` signed in to the
// web UI or API (names in --http-auth-file), and tokens written `<secret>@team-a`, see that inbox
// only. Options are `&`-separated and repeated for several values; `+` stays a plus (addresses
// use it), so values are read with decodeURIComponent rather than as a form.
import { globMatch } from '../routing/glob.ts';

/** The inbox of messages no other inbox takes, and of everything when no inbox is configured. */
export const DEFAULT_INBOX = 'default';
/** Lower-case letters, digits and dashes, as in a host name label: safe in URLs, tokens and searches. */
export const INBOX_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export const MAX_INBOXES = 200;
const MAX_PATTERNS = 100;

export class InboxError extends Error {}

export interface Inbox {
  name: string;
  /** Users (SMTP AUTH and HTTP basic auth names) whose mail lands here and who see only this inbox. */
  users: string[];
  /** Envelope recipient wildcards (`*`, `?`; case-insensitive) for unauthenticated mail. */
  recipients: string[];
}

/** One inbox from its `--inbox` value. */
export function parseInbox(value: string): Inbox {
  const q = value.indexOf('?');
  const name = (q < 0 ? value : value.slice(0, q)).trim();
  if (!INBOX_NAME.test(name)) {
    throw new InboxError(
      `"${name.slice(0, 60)}" is not an inbox name: use 1 to 40 lower-case letters, digits and dashes`,
    );
  }
  if (name === DEFAULT_INBOX)
    throw new InboxError(`"${DEFAULT_INBOX}" is the built-in inbox; choose another name`);
  const inbox: Inbox = { name, users: [], recipients: [] };
  for (const pair of q < 0 ? [] : value.slice(q + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    let item: string;
    try {
      item = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1)).trim();
    } catch {
      throw new InboxError(`${name}: "${pair.slice(0, 60)}" is not URL-encoded correctly`);
    }
    if (item === '' || /\p{Cc}/u.test(item)) throw new InboxError(`${name}: ${key} needs a value`);
    if (key === 'users') inbox.users.push(item);
    else if (key === 'recipients') {
      if (!item.includes('@')) throw new InboxError(`${name}: recipient pattern "${item}" has no @`);
      inbox.recipients.push(item.toLowerCase());
    } else throw new InboxError(`${name}: unknown option "${key}" (users, recipients)`);
  }
  if (inbox.recipients.length > MAX_PATTERNS)
    throw new InboxError(`${name}: more than ${MAX_PATTERNS} recipient patterns`);
  return inbox;
}

/** Files messages into inboxes and says which inbox a signed-in user is limited to. */
export class InboxBook {
  readonly inboxes: readonly Inbox[];
  private readonly byUser = new Map<string, string>();

  constructor(inboxes: readonly Inbox[]) {
    if (inboxes.length > MAX_INBOXES) throw new InboxError(`more than ${MAX_INBOXES} inboxes`);
    const names = new Set<string>();
    for (const inbox of inboxes) {
      if (names.has(inbox.name)) throw new InboxError(`two inboxes are called ${inbox.name}`);
      names.add(inbox.name);
      for (const user of inbox.users) {
        const other = this.byUser.get(user);
        if (other !== undefined && other !== inbox.name)
          throw new InboxError(`user ${user} is listed by two inboxes (${other}, ${inbox.name})`);
        this.byUser.set(user, inbox.name);
      }
    }
    this.inboxes = inboxes;
  }

  static parse(values: readonly string[]): InboxBook {
    return new InboxBook(values.map(parseInbox));
  }

  /** Every inbox name, the default first. */
  get names(): string[] {
    return [DEFAULT_INBOX, ...this.inboxes.map((i) => i.name)];
  }

  has(name: string): boolean {
    return name === DEFAULT_INBOX || this.inboxes.some((i) => i.name === name);
  }

  /** The inbox a user (SMTP or HTTP) is limited to, or null for a user who sees every inbox. */
  inboxOfUser(user: string): string | null {
    return this.byUser.get(user) ?? null;
  }

  /** Where a message with this envelope is filed. */
  assign(envelope: { authUser: string | null; rcptTo: readonly string[] }): string {
    if (envelope.authUser !== null) {
      const own = this.byUser.get(envelope.authUser);
      if (own !== undefined) return own;
    }
    for (const inbox of this.inboxes) {
      for (const pattern of inbox.recipients) {
        if (envelope.rcptTo.some((r) => globMatch(pattern, r))) return inbox.name;
      }
    }
    return DEFAULT_INBOX;
  }
}

/** The inbox a stored message is in; messages stored before inboxes existed are in the default one. */
export function inboxOf(envelope: { inbox?: string | undefined }): string {
  return envelope.inbox ?? DEFAULT_INBOX;
}
