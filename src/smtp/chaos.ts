// Chaos (testing tools): failures and delays injected on purpose at chosen SMTP stages, so an
// application's retry and error handling can be tried against a server that misbehaves the way
// real ones do (a 451 at RCPT, a slow DATA, a connection that drops). One trigger per stage: a
// reply code, a probability, a latency added before every reply of the stage, and whether a
// failure drops the connection instead of answering.
//
// What chaos never does: it decides before the stage's own checks and before anything is stored,
// so a message that got its 250 is stored and stays stored; it only runs on the listeners named
// in --chaos-listeners, never on an MX (--local-domains), and never after AUTH on a session whose
// mail is queued for delivery (real outbound mail). See the hook in ./hooks/chaos.ts.
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Listener } from '../domain/message.ts';

export const CHAOS_STAGES = ['connect', 'auth', 'mail-from', 'rcpt-to', 'data'] as const;
export type ChaosStage = (typeof CHAOS_STAGES)[number];

export interface ChaosTrigger {
  /** The reply when the failure fires, 400 to 599. */
  code: number;
  /** Chance in percent, 0 to 100, that one command of the stage fails. */
  probability: number;
  /** Added before every reply of the stage, failing or not. */
  latencyMs: number;
  /** A failure closes the connection without a reply instead of answering `code`. */
  disconnect: boolean;
}

export type ChaosTriggers = Record<ChaosStage, ChaosTrigger>;

/**
 * Mailpit's defaults where it has the stage (451 for Sender and Recipient, 535 for
 * Authentication); 421 before the greeting, the only temporary refusal RFC 5321 §3.1 and §4.2.2
 * give a server there; 451 after DATA (RFC 5321 §4.3.2: local error in processing).
 */
export const DEFAULT_CODES: Readonly<Record<ChaosStage, number>> = {
  connect: 421,
  auth: 535,
  'mail-from': 451,
  'rcpt-to': 451,
  data: 451,
};

/** Ten minutes: longer than the reply timeouts of common clients, short of our session deadline. */
export const MAX_LATENCY_MS = 600_000;

export function offTrigger(stage: ChaosStage): ChaosTrigger {
  return { code: DEFAULT_CODES[stage], probability: 0, latencyMs: 0, disconnect: false };
}

/** What one command of a stage gets: its delay, and the failure when the dice say so. */
export interface ChaosDraw {
  latencyMs: number;
  failure: { code: number; disconnect: boolean } | null;
}

/** The triggers in force, changed through the API while the listeners run. */
export class Chaos {
  private triggers: ChaosTriggers;
  private readonly random: () => number;
  private readonly listeners: ReadonlySet<Listener>;

  constructor(o: {
    triggers?: Partial<ChaosTriggers>;
    /** Uniform in [0, 1): Math.random, or seededRandom for a run that can be repeated. */
    random: () => number;
    listeners: readonly Listener[];
  }) {
    this.random = o.random;
    this.listeners = new Set(o.listeners);
    this.triggers = complete(o.triggers ?? {});
  }

  get(): ChaosTriggers {
    return complete(this.triggers);
  }

  /** Replaces every trigger: a stage left out is off, as in Mailpit's PUT. */
  set(triggers: Partial<ChaosTriggers>): ChaosTriggers {
    this.triggers = complete(triggers);
    return this.get();
  }

  appliesTo(listener: Listener): boolean {
    return this.listeners.has(listener);
  }

  draw(stage: ChaosStage): ChaosDraw {
    const t = this.triggers[stage];
    // No draw for a stage that cannot fail, so a seeded sequence depends only on failing stages.
    const fails = t.probability > 0 && this.random() * 100 < t.probability;
    return { latencyMs: t.latencyMs, failure: fails ? { code: t.code, disconnect: t.disconnect } : null };
  }
}

function complete(partial: Partial<ChaosTriggers>): ChaosTriggers {
  const out = {} as ChaosTriggers;
  for (const stage of CHAOS_STAGES) out[stage] = { ...(partial[stage] ?? offTrigger(stage)) };
  return out;
}

/** mulberry32: a small, well-mixed 32-bit generator, enough for dice that must repeat. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ChaosSpecError extends Error {
  override name = 'ChaosSpecError';
}

const STAGE_NAMES = new Map<string, ChaosStage>([
  ['connect', 'connect'],
  ['auth', 'auth'],
  ['authentication', 'auth'],
  ['mail', 'mail-from'],
  ['mail-from', 'mail-from'],
  ['sender', 'mail-from'],
  ['rcpt', 'rcpt-to'],
  ['rcpt-to', 'rcpt-to'],
  ['recipient', 'rcpt-to'],
  ['recipients', 'rcpt-to'],
  ['data', 'data'],
]);

/** Problems with one trigger's values, or null; shared by the flag and the API. */
export function triggerProblem(t: ChaosTrigger): string | null {
  if (!Number.isInteger(t.code) || t.code < 400 || t.code > 599) return 'code must be 400 to 599';
  if (!Number.isInteger(t.probability) || t.probability < 0 || t.probability > 100)
    return 'probability must be a whole number from 0 to 100';
  if (!Number.isInteger(t.latencyMs) || t.latencyMs < 0 || t.latencyMs > MAX_LATENCY_MS)
    return `latency must be 0 to ${MAX_LATENCY_MS} ms`;
  return null;
}

interface Entry {
  stage: ChaosStage;
  code?: number;
  probability?: number;
  latencyMs?: number;
  disconnect?: boolean;
}

function wholeNumber(key: string, text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new ChaosSpecError(`${key}: "${text}" is not a whole number`);
  return Number(text);
}

function duration(text: string): number {
  const m = /^(\d{1,9})(ms|s|m)?$/.exec(text);
  if (!m) throw new ChaosSpecError(`latency: "${text}" is not a duration (e.g. 500ms, 2s, 1m)`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1);
}

function setKey(entry: Entry, token: string): void {
  const [rawKey, ...rest] = token.split('=');
  const key = rawKey!.trim().toLowerCase();
  const value = rest.join('=').trim().toLowerCase();
  if (key === 'disconnect' && rest.length === 0) {
    entry.disconnect = true;
    return;
  }
  if (rest.length === 0) throw new ChaosSpecError(`"${token}" is not key=value`);
  if (key === 'code') entry.code = wholeNumber(key, value);
  else if (key === 'probability') entry.probability = wholeNumber(key, value.replace(/%$/, ''));
  else if (key === 'latency') entry.latencyMs = duration(value);
  else if (key === 'disconnect') {
    if (!/^(true|false|yes|no|on|off|1|0)$/.test(value))
      throw new ChaosSpecError(`disconnect: "${value}" is not true or false`);
    entry.disconnect = /^(true|yes|on|1)$/.test(value);
  } else throw new ChaosSpecError(`unknown key "${key}" (code, probability, latency, disconnect)`);
}

/** Starts an entry from `stage:` followed by nothing, a key=value, or Mailpit's `code:probability`. */
function startEntry(stage: ChaosStage, rest: string): Entry {
  const entry: Entry = { stage };
  const mailpit = /^(\d{3}):(\d{1,3})$/.exec(rest);
  if (mailpit) {
    entry.code = Number(mailpit[1]);
    entry.probability = Number(mailpit[2]);
  } else if (rest !== '') setKey(entry, rest);
  return entry;
}

/**
 * Reads --chaos: entries `stage:key=value,key=value` separated by `;` (stages connect, auth, mail,
 * rcpt, data; keys code, probability, latency, disconnect), or Mailpit's --chaos-triggers form
 * `Sender:451:30,Recipient:451:30`. Probability defaults to 100 in an entry that gives a code or
 * disconnect, to 0 otherwise (an entry with only a latency delays without failing).
 */
export function parseChaosSpec(spec: string): Partial<ChaosTriggers> {
  const entries: Entry[] = [];
  for (const raw of spec.split(/[;,]/)) {
    const token = raw.trim();
    if (token === '') continue;
    const head = /^([A-Za-z-]+):(.*)$/.exec(token);
    if (head) {
      const stage = STAGE_NAMES.get(head[1]!.toLowerCase());
      if (!stage) throw new ChaosSpecError(`unknown stage "${head[1]}" (connect, auth, mail, rcpt, data)`);
      if (entries.some((e) => e.stage === stage)) throw new ChaosSpecError(`stage ${stage} is given twice`);
      entries.push(startEntry(stage, head[2]!.trim()));
    } else {
      const current = entries.at(-1);
      if (!current) throw new ChaosSpecError(`"${token}" comes before any stage:`);
      setKey(current, token);
    }
  }
  const out: Partial<ChaosTriggers> = {};
  for (const e of entries) {
    const fails = e.code !== undefined || e.disconnect === true;
    const trigger: ChaosTrigger = {
      code: e.code ?? DEFAULT_CODES[e.stage],
      probability: e.probability ?? (fails ? 100 : 0),
      latencyMs: e.latencyMs ?? 0,
      disconnect: e.disconnect ?? false,
    };
    const problem = triggerProblem(trigger);
    if (problem) throw new ChaosSpecError(`${e.stage}: ${problem}`);
    out[e.stage] = trigger;
  }
  return out;
}

/**
 * The chaos of this process from its settings, or null when chaos is off. Throws ConfigError for
 * a bad --chaos, or for chaos on an MX: refusing real senders' mail there would bounce it.
 */
export function chaosFromConfig(
  config: Pick<Config, 'chaos' | 'chaosEnabled' | 'chaosListeners' | 'chaosSeed' | 'localDomains'>,
  random?: () => number,
): Chaos | null {
  if (!config.chaosEnabled && config.chaos === '') return null;
  if (config.localDomains.length > 0) {
    throw new ConfigError(
      '--chaos and --chaos-enabled are for a test sandbox; they cannot be used with --local-domains (MX mode)',
    );
  }
  let triggers: Partial<ChaosTriggers>;
  try {
    triggers = parseChaosSpec(config.chaos);
  } catch (err) {
    throw new ConfigError(`--chaos: ${(err as Error).message}`);
  }
  return new Chaos({
    triggers,
    random: random ?? (config.chaosSeed > 0 ? seededRandom(config.chaosSeed) : Math.random),
    listeners: config.chaosListeners as readonly Listener[],
  });
}
