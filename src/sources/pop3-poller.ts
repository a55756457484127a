// Imports the messages of one POP3 maildrop exactly once. POP3 has no flags and no folders, so
// the unique-id listing (UIDL, RFC 1939 §7) is the only stable handle: a pass lists the ids, asks
// the sink which keys it already holds, downloads the others one by one and, with
// afterImport 'delete', marks each one deleted only after the sink committed it. Deletions take
// effect at QUIT (RFC 1939 §6); a session that breaks before QUIT loses them, and the next pass
// deletes those messages again without downloading them, since their keys are known by then.
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_BACKOFF, realSleep, runSessions } from './backoff.ts';
import { Pop3Client, Pop3Error } from './pop3-client.ts';
import {
  contentKeyOf,
  type Poller,
  type PollerAccount,
  type PollerDeps,
  type PollResult,
  pop3UidlKey,
  type Sleep,
  tlsOptionsFor,
} from './types.ts';

const BATCH = 500;
const DEFAULT_TIMEOUT_MS = 60_000;

export interface Pop3PassResult extends PollResult {
  /** Messages left on the server because they exceed maxMessageBytes. */
  skipped: number;
}

/** A pass's counts; skipped messages by unique-id, as a pass may list one twice (see Oversized). */
interface Tally {
  imported: number;
  duplicates: number;
  skipped: Set<string>;
}

function validate(account: PollerAccount): void {
  if (account.protocol !== 'pop3') throw new Error(`account ${account.name} is not a POP3 account`);
  if (account.afterImport !== 'leave' && account.afterImport !== 'delete') {
    throw new Error(`account ${account.name}: POP3 can only leave or delete messages after import`);
  }
  if (!(account.maxMessageBytes > 0)) throw new Error(`account ${account.name}: maxMessageBytes must be > 0`);
}

/** A RETR that passed the cap: the client closed the connection, the pass starts over. */
class Oversized extends Error {}

export class Pop3Poller implements Poller {
  readonly #account: PollerAccount;
  readonly #deps: PollerDeps;
  readonly #log: Logger;
  readonly #source: string;
  readonly #sleep: Sleep;
  /** UIDL keys known to be imported, limited to the messages still on the server. */
  #known = new Set<string>();
  /** Unique-ids of messages too large to import, reported once per process. */
  #oversized = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;

  constructor(account: PollerAccount, deps: PollerDeps) {
    validate(account);
    this.#account = account;
    this.#deps = deps;
    this.#source = `pop3:${account.name}`;
    this.#sleep = deps.sleep ?? realSleep;
    this.#log = deps.logger.child({ source: this.#source });
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
      session: async (healthy) => {
        const result = await this.pollOnce();
        if (result.imported + result.duplicates + result.skipped > 0)
          this.#log.info(result, 'POP3 pass done');
        healthy();
        await this.#sleep(this.#account.pollIntervalMs, abort.signal);
      },
    });
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = null;
    this.#abort = null;
  }

  /** One pass; a message found too large mid-download costs a reconnect, then it is left alone. */
  pollOnce(): Promise<Pop3PassResult> {
    const run = this.#chain.then(async () => {
      const tally: Tally = { imported: 0, duplicates: 0, skipped: new Set() };
      for (;;) {
        try {
          await this.#session(tally);
          return { imported: tally.imported, duplicates: tally.duplicates, skipped: tally.skipped.size };
        } catch (err) {
          if (!(err instanceof Oversized)) throw err;
        }
      }
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  async #connect(): Promise<Pop3Client> {
    const a = this.#account;
    const client = await Pop3Client.connect({
      host: a.host,
      port: a.port,
      tls: a.tls,
      tlsOptions: tlsOptionsFor(a, this.#deps.tls),
      timeoutMs: this.#deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    try {
      await client.login(a.user, a.password);
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  async #session(result: Tally): Promise<void> {
    const client = await this.#connect();
    try {
      const { count } = await client.stat();
      if (count > 0) await this.#drain(client, result);
      await client.quit();
    } finally {
      client.close();
    }
  }

  async #drain(client: Pop3Client, result: Tally): Promise<void> {
    const uids = await client.uidl();
    const claimed = new Map((await client.list()).map((s) => [s.n, s.octets]));
    const key = (uid: string) => pop3UidlKey(this.#account.name, uid);
    const imported = await this.#importedKeys(uids.map((u) => key(u.uid)));
    // Forget what is no longer on the server, so memory follows the maildrop's size.
    this.#known = imported;
    const listed = new Set(uids.map((u) => u.uid));
    this.#oversized = new Set([...this.#oversized].filter((uid) => listed.has(uid)));
    for (const { n, uid } of uids) {
      if (!imported.has(key(uid))) {
        if (!(await this.#importOne(client, n, uid, claimed.get(n), result))) continue;
        this.#known.add(key(uid));
      }
      if (this.#account.afterImport === 'delete') await client.dele(n);
    }
  }

  /** The keys among these that the sink holds; keys known from earlier passes are not asked again. */
  async #importedKeys(keys: string[]): Promise<Set<string>> {
    const imported = new Set(keys.filter((k) => this.#known.has(k)));
    const unknown = keys.filter((k) => !this.#known.has(k));
    for (let i = 0; i < unknown.length; i += BATCH) {
      for (const k of await this.#deps.sink.importedAmong(unknown.slice(i, i + BATCH))) imported.add(k);
    }
    return imported;
  }

  /** Downloads and hands over one message; false when it was left on the server. */
  async #importOne(
    client: Pop3Client,
    n: number,
    uid: string,
    claimedSize: number | undefined,
    result: Tally,
  ): Promise<boolean> {
    const max = this.#account.maxMessageBytes;
    if (this.#oversized.has(uid)) {
      result.skipped.add(uid);
      return false;
    }
    if (claimedSize !== undefined && claimedSize > max) {
      this.#skip(uid, claimedSize, result);
      return false;
    }
    let raw: Buffer;
    try {
      raw = await client.retr(n, max);
    } catch (err) {
      if (!(err instanceof Pop3Error && err.code === 'TOO_LARGE')) throw err;
      // The LIST size was wrong; the connection is closed (the rest of the answer cannot be skipped).
      this.#skip(uid, undefined, result);
      throw new Oversized(uid);
    }
    const outcome = await this.#deps.sink.accept({
      raw,
      keys: [pop3UidlKey(this.#account.name, uid), contentKeyOf(this.#account.name, raw)],
      source: this.#source,
    });
    if (outcome === 'stored') result.imported += 1;
    else result.duplicates += 1;
    return true;
  }

  #skip(uid: string, size: number | undefined, result: Tally): void {
    result.skipped.add(uid);
    this.#oversized.add(uid);
    this.#log.warn(
      { uidl: uid, size, maxMessageBytes: this.#account.maxMessageBytes },
      'message not imported: larger than maxMessageBytes; it stays on the server',
    );
  }
}

export function createPop3Poller(account: PollerAccount, deps: PollerDeps): Pop3Poller {
  return new Pop3Poller(account, deps);
}
