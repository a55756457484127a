// Imports the messages of one IMAP mailbox exactly once (imapflow). A pass lists the UIDs above the
// high-water mark of the mailbox's UIDVALIDITY, asks the sink which UID keys it already holds,
// recognises re-numbered messages by their content key from a header-only fetch, and downloads the
// rest one at a time with BODY.PEEK (RFC 3501 §6.4.5: no \Seen as a side effect). The action after
// import (flag, move, delete) runs only once the sink has committed the message; an action that
// did not happen (a crash, a dropped connection) is repeated on the next pass, because the message
// is then found among the imported ones. Between passes the connection waits in IDLE (RFC 2177).
import { setTimeout as delay } from 'node:timers/promises';
import type { FetchMessageObject, ImapFlow, SearchObject } from 'imapflow';
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_BACKOFF, realSleep, runSessions } from './backoff.ts';
import {
  contentKey,
  contentKeyOf,
  imapUidKey,
  type Poller,
  type PollerAccount,
  type PollerDeps,
  type PollResult,
  type Sleep,
  tlsOptionsFor,
} from './types.ts';

/** UIDs per importedAmong call and per repair command. */
const BATCH = 200;
/**
 * How often IDLE is ended and issued again (imapflow's maxIdleTime). RFC 2177 §3 asks for at
 * least every 29 minutes; we go below imapflow's 5-minute socket inactivity timeout (whose recovery
 * NOOP would end IDLE for good) and below common NAT idle timeouts.
 */
const IDLE_RESTART_MS = 4 * 60_000;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface ImapPassResult extends PollResult {
  /** Messages left on the server because they exceed maxMessageBytes. */
  skipped: number;
}

/** Wakes the wait between passes: new mail, a reselected mailbox, a lost connection, a stop. */
class Wake {
  closed = false;
  #pending = false;
  #resolve: (() => void) | null = null;
  readonly trigger = (): void => {
    this.#pending = true;
    this.#resolve?.();
  };
  readonly close = (): void => {
    this.closed = true;
    this.trigger();
  };

  reset(): void {
    this.#pending = false;
  }

  async wait(ms: number, sleep: Sleep, signal: AbortSignal): Promise<void> {
    if (this.#pending || signal.aborted) return;
    const timer = new AbortController();
    const woken = new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
    await Promise.race([woken, sleep(ms, AbortSignal.any([timer.signal, signal]))]);
    timer.abort();
    this.#resolve = null;
  }
}

function validate(account: PollerAccount): void {
  if (account.protocol !== 'imap') throw new Error(`account ${account.name} is not an IMAP account`);
  if (account.afterImport === 'move' && !account.moveTo) {
    throw new Error(`account ${account.name}: afterImport 'move' needs moveTo`);
  }
  if (!(account.maxMessageBytes > 0)) throw new Error(`account ${account.name}: maxMessageBytes must be > 0`);
}

export class ImapPoller implements Poller {
  readonly #account: PollerAccount;
  readonly #deps: PollerDeps;
  readonly #log: Logger;
  readonly #mailbox: string;
  readonly #flag: string;
  readonly #source: string;
  readonly #sleep: Sleep;
  /** Highest UID handled, per UIDVALIDITY: a pass starts above it, so 'leave' does not rescan. */
  readonly #highWater = new Map<bigint, number>();
  /** UID keys of oversized messages already reported, so the log says it once. */
  readonly #oversized = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;

  constructor(account: PollerAccount, deps: PollerDeps) {
    validate(account);
    this.#account = account;
    this.#deps = deps;
    this.#mailbox = account.mailbox ?? 'INBOX';
    this.#flag = account.flag ?? '\\Seen';
    this.#source = `imap:${account.name}`;
    this.#sleep = deps.sleep ?? realSleep;
    this.#log = deps.logger.child({ source: this.#source, mailbox: this.#mailbox });
  }

  start(): void {
    if (this.#loop) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = runSessions({
      signal: abort.signal,
      policy: this.#deps.backoff ?? DEFAULT_BACKOFF,
      random: this.#deps.random ?? Math.random,
      sleep: this.#sleep,
      logger: this.#log,
      session: (healthy) => this.#session(abort.signal, healthy),
    });
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = null;
    this.#abort = null;
  }

  pollOnce(): Promise<ImapPassResult> {
    return this.#serial(async () => {
      const client = await this.#connect();
      try {
        return await this.#pass(client);
      } finally {
        await this.#close(client);
      }
    });
  }

  /** Passes never overlap: the loop's and pollOnce()'s wait for each other. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work, work);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** One connection: passes separated by IDLE, or a single pass when IDLE is off. */
  async #session(signal: AbortSignal, healthy: () => void): Promise<void> {
    const client = await this.#connect();
    const wake = new Wake();
    client.on('exists', wake.trigger);
    client.on('mailboxOpen', wake.trigger);
    client.on('close', wake.close);
    const useIdle = this.#account.idle !== false && client.capabilities.has('IDLE');
    // A stop in the middle of a pass must not wait for a server that stopped answering; anything
    // imported but not yet flagged or moved is finished on the next pass.
    let passing = false;
    const onAbort = () => passing && client.close();
    signal.addEventListener('abort', onAbort);
    try {
      do {
        wake.reset();
        passing = true;
        const result = await this.#serial(() => this.#pass(client)).finally(() => {
          passing = false;
        });
        if (result.imported + result.duplicates + result.skipped > 0)
          this.#log.info(result, 'IMAP pass done');
        healthy();
        if (!useIdle || signal.aborted) break;
        client.idle().catch(() => {});
        await wake.wait(this.#account.pollIntervalMs, this.#sleep, signal);
        if (wake.closed && !signal.aborted) throw new Error('the IMAP connection closed');
      } while (!signal.aborted);
    } finally {
      signal.removeEventListener('abort', onAbort);
      client.off('exists', wake.trigger);
      client.off('mailboxOpen', wake.trigger);
      client.off('close', wake.close);
      await this.#close(client);
    }
    // Without IDLE the connection is not kept between passes: servers drop quiet sessions.
    if (!useIdle) await this.#sleep(this.#account.pollIntervalMs, signal);
  }

  async #connect(): Promise<ImapFlow> {
    const a = this.#account;
    const timeout = this.#deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // imapflow (4 MB of the main thread's heap) loads with the first IMAP connection, not at start.
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({
      host: a.host,
      port: a.port,
      secure: a.tls === 'implicit',
      doSTARTTLS: a.tls === 'starttls' ? true : a.tls === 'none' ? false : undefined,
      auth: { user: a.user, pass: a.password },
      tls: tlsOptionsFor(a, this.#deps.tls),
      logger: false,
      disableAutoIdle: true,
      maxIdleTime: IDLE_RESTART_MS,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      // A server's literal is capped just above the largest message we would keep, whatever
      // RFC822.SIZE said.
      maxLiteralSize: a.maxMessageBytes + 1,
      maxResponseSize: a.maxMessageBytes + 1024 * 1024,
    });
    client.on('error', (err: Error) => this.#log.debug({ err }, 'IMAP connection error'));
    await client.connect();
    return client;
  }

  /** LOGOUT when the connection still works (bounded by the timeout), then close it. */
  async #close(client: ImapFlow): Promise<void> {
    const timeoutMs = this.#deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      if (client.usable) await Promise.race([client.logout(), delay(timeoutMs, undefined, { ref: false })]);
    } catch {
      // The connection is going away either way.
    } finally {
      client.close();
    }
  }

  async #pass(client: ImapFlow): Promise<ImapPassResult> {
    const lock = await client.getMailboxLock(this.#mailbox);
    try {
      if (!client.mailbox) throw new Error(`mailbox ${this.#mailbox} is not selected`);
      const uidValidity = client.mailbox.uidValidity;
      if (!this.#highWater.has(uidValidity)) this.#highWater.clear();
      const from = this.#highWater.get(uidValidity) ?? 0;
      const uids = await this.#candidates(client, from);
      const result: ImapPassResult = { imported: 0, duplicates: 0, skipped: 0 };
      for (let i = 0; i < uids.length; i += BATCH) {
        await this.#batch(client, uidValidity, uids.slice(i, i + BATCH), result);
      }
      return result;
    } finally {
      lock.release();
    }
  }

  /** UIDs above the high-water mark, ascending. */
  async #candidates(client: ImapFlow, from: number): Promise<number[]> {
    const query: SearchObject = { uid: `${from + 1}:*` };
    // A keyword is only ever set by us after an import, so messages carrying it need no look.
    // \Seen is not such a proof: a person may have read a message we never imported.
    if (this.#account.afterImport === 'flag' && !this.#flag.startsWith('\\')) query.unKeyword = this.#flag;
    const found = await client.search(query, { uid: true });
    if (!Array.isArray(found)) throw new Error('UID SEARCH failed');
    // RFC 3501 §6.4.8: "n:*" also matches the highest UID when it is below n.
    return found.filter((uid) => uid > from).sort((a, b) => a - b);
  }

  async #batch(client: ImapFlow, uidValidity: bigint, uids: number[], result: ImapPassResult): Promise<void> {
    const uidKey = (uid: number) => imapUidKey(this.#account.name, this.#mailbox, uidValidity, uid);
    const done = await this.#deps.sink.importedAmong(uids.map(uidKey));
    const pending = uids.filter((uid) => !done.has(uidKey(uid)));
    const metas = await this.#headers(client, pending);
    const contentKeys = new Map<number, string>();
    for (const [uid, meta] of metas) {
      if (meta.headers) contentKeys.set(uid, contentKey(this.#account.name, meta.headers, meta.size ?? 0));
    }
    const seenContent =
      contentKeys.size > 0
        ? await this.#deps.sink.importedAmong([...contentKeys.values()])
        : new Set<string>();
    const recognised = new Set(pending.filter((uid) => seenContent.has(contentKeys.get(uid) ?? '')));
    result.duplicates += recognised.size;
    // Imported before (under these UIDs, or under old ones): finish what may not have happened.
    await this.#afterImport(client, [...uids.filter((uid) => done.has(uidKey(uid))), ...recognised]);
    for (const uid of uids) {
      const meta = metas.get(uid);
      if (meta && !done.has(uidKey(uid)) && !recognised.has(uid)) {
        await this.#importOne(client, uidValidity, uid, meta, result);
      }
      this.#highWater.set(uidValidity, Math.max(uid, this.#highWater.get(uidValidity) ?? 0));
    }
  }

  /**
   * Sizes, and header sections of the messages that fit (a header larger than the cap would break
   * the connection at the literal cap). A UID missing from the answer was expunged meanwhile.
   */
  async #headers(client: ImapFlow, uids: number[]): Promise<Map<number, FetchMessageObject>> {
    if (uids.length === 0) return new Map();
    const sizes = await client.fetchAll(uids, { uid: true, size: true }, { uid: true });
    const byUid = new Map(sizes.map((row) => [row.uid, row]));
    const fitting = sizes.filter((r) => (r.size ?? 0) <= this.#account.maxMessageBytes).map((r) => r.uid);
    if (fitting.length === 0) return byUid;
    const rows = await client.fetchAll(fitting, { uid: true, size: true, headers: true }, { uid: true });
    for (const row of rows) byUid.set(row.uid, row);
    return byUid;
  }

  async #importOne(
    client: ImapFlow,
    uidValidity: bigint,
    uid: number,
    meta: FetchMessageObject,
    result: ImapPassResult,
  ): Promise<void> {
    const max = this.#account.maxMessageBytes;
    if ((meta.size ?? 0) > max) return this.#skip(uidValidity, uid, meta.size ?? 0, result);
    // One byte more than allowed tells an under-reported size from a message that fits.
    const query = { uid: true, internalDate: true, source: { maxLength: max + 1 } };
    const msg = await client.fetchOne(String(uid), query, { uid: true });
    if (msg === false || !msg.source) return;
    // A UID means nothing under another UIDVALIDITY (RFC 3501 §2.3.1.1).
    if (client.mailbox && client.mailbox.uidValidity !== uidValidity) {
      throw new Error('UIDVALIDITY changed during the pass');
    }
    if (msg.source.length > max) return this.#skip(uidValidity, uid, msg.source.length, result);
    const outcome = await this.#deps.sink.accept({
      raw: msg.source,
      keys: [
        imapUidKey(this.#account.name, this.#mailbox, uidValidity, uid),
        contentKeyOf(this.#account.name, msg.source),
      ],
      source: this.#source,
      receivedAt: msg.internalDate ? new Date(msg.internalDate).toISOString() : undefined,
    });
    if (outcome === 'stored') result.imported += 1;
    else result.duplicates += 1;
    await this.#afterImport(client, [uid]);
  }

  /** Left on the server, reported once per process; the high-water mark moves past it. */
  #skip(uidValidity: bigint, uid: number, size: number, result: ImapPassResult): void {
    result.skipped += 1;
    const key = imapUidKey(this.#account.name, this.#mailbox, uidValidity, uid);
    if (this.#oversized.has(key)) return;
    this.#oversized.add(key);
    this.#log.warn(
      { uid, uidValidity: String(uidValidity), size, maxMessageBytes: this.#account.maxMessageBytes },
      'message not imported: larger than maxMessageBytes; it stays on the server',
    );
  }

  async #afterImport(client: ImapFlow, uids: number[]): Promise<void> {
    if (uids.length === 0) return;
    const a = this.#account;
    let ok: unknown = true;
    if (a.afterImport === 'flag')
      ok = await client.messageFlagsAdd(uids, [this.#flag], { uid: true, silent: true });
    else if (a.afterImport === 'move') ok = await client.messageMove(uids, a.moveTo!, { uid: true });
    // UID EXPUNGE (RFC 4315) when offered, so only these messages go.
    else if (a.afterImport === 'delete') ok = await client.messageDelete(uids, { uid: true });
    if (!ok) throw new Error(`the server refused to ${a.afterImport} UIDs ${uids.join(',')}`);
  }
}

export function createImapPoller(account: PollerAccount, deps: PollerDeps): ImapPoller {
  return new ImapPoller(account, deps);
}
