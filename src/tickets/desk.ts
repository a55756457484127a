// Support desks, one per `--desk` value: the desk's domain, then options as a query string, so
// one list setting (flag, variable or config file) describes them all:
//   support.example
//   support.example?intake=new&prefix=SUPPORT&first=7100&ack=on&from-name=Example%20Support
// Mail to intake@domain opens a ticket; PREFIX-<number>@domain is a ticket's address, and
// PREFIX-<number>+<token>@domain the signed one our replies ask to be answered at.

export class DeskError extends Error {}

export interface Desk {
  /** The desk's name in the API and events: `name=`, else the domain. */
  name: string;
  /** Lower case. */
  domain: string;
  /** The intake address's local part, lower case (`new`). */
  intake: string;
  /** Ticket keys and addresses: PREFIX-7102. Upper case letters, digits and dashes. */
  prefix: string;
  /** The first ticket's number. */
  firstNumber: number;
  /** Acknowledge a new ticket to its requester. */
  acknowledge: boolean;
  /** The acknowledgement's text; `{key}` and `{subject}` are filled in. */
  acknowledgementText: string;
  /** The display name of the desk's From. */
  fromName: string;
  /** At most this many acknowledgements to one address per hour (two auto-responders cannot loop). */
  acknowledgementsPerHour: number;
  /** Automatic mail (out-of-office and the like) kept per sender per hour; more is held. */
  automaticPerSenderPerHour: number;
  /** Automatic mail kept per ticket per day; more is held. */
  automaticPerTicketPerDay: number;
}

const PARAMS = new Set([
  'name',
  'intake',
  'prefix',
  'first',
  'ack',
  'ack-text',
  'from-name',
  'ack-per-hour',
  'auto-per-sender',
  'auto-per-ticket',
]);

export const DEFAULT_ACKNOWLEDGEMENT =
  'Thank you for writing to us. Your request has been received as {key} and an agent will answer soon.\n\n' +
  'To add to it, reply to this message.';

function count(value: string | null, fallback: number, what: string, min: number): number {
  if (value === null) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min)
    throw new DeskError(`${what} must be a whole number of at least ${min}, not "${value}"`);
  return Number(value);
}

function onOff(value: string | null, what: string): boolean {
  if (value === null || /^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new DeskError(`${what} must be on or off, not "${value}"`);
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const LOCAL = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const PREFIX = /^[A-Z][A-Z0-9]{0,19}$/;

/** One desk from its `--desk` value. */
export function parseDesk(value: string): Desk {
  const q = value.indexOf('?');
  const domain = (q < 0 ? value : value.slice(0, q)).trim().toLowerCase();
  if (!DOMAIN.test(domain)) throw new DeskError(`"${domain}" is not a domain name`);
  const params = new URLSearchParams(q < 0 ? '' : value.slice(q + 1));
  for (const key of params.keys()) {
    if (!PARAMS.has(key)) throw new DeskError(`${domain}: unknown option "${key}"`);
  }
  const p = (k: string) => params.get(k);
  const intake = (p('intake') ?? 'new').toLowerCase();
  if (!LOCAL.test(intake))
    throw new DeskError(`${domain}: intake must be a plain local part, not "${intake}"`);
  const prefix = (p('prefix') ?? domain.split('.')[0]!.replace(/[^a-z0-9]/g, '')).toUpperCase();
  if (!PREFIX.test(prefix))
    throw new DeskError(
      `${domain}: prefix must be a letter then up to 19 letters or digits, not "${prefix}"`,
    );
  if (intake.toUpperCase().startsWith(`${prefix}-`))
    throw new DeskError(`${domain}: the intake address cannot look like a ticket address`);
  const name = p('name') ?? domain;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
    throw new DeskError(`${domain}: name "${name}" is not a plain name`);
  return {
    name,
    domain,
    intake,
    prefix,
    firstNumber: count(p('first'), 1, `${domain}: first`, 1),
    acknowledge: onOff(p('ack') ?? 'off', `${domain}: ack`),
    acknowledgementText: p('ack-text') ?? DEFAULT_ACKNOWLEDGEMENT,
    fromName: p('from-name') ?? 'Support',
    acknowledgementsPerHour: count(p('ack-per-hour'), 3, `${domain}: ack-per-hour`, 1),
    automaticPerSenderPerHour: count(p('auto-per-sender'), 5, `${domain}: auto-per-sender`, 0),
    automaticPerTicketPerDay: count(p('auto-per-ticket'), 20, `${domain}: auto-per-ticket`, 0),
  };
}

/**
 * Every desk from the setting. Two desks on one domain, with one name, or with one key prefix are a
 * configuration error: ticket keys (SUPPORT-7102) are looked up across desks, so a prefix names one.
 */
export function parseDesks(values: readonly string[]): Desk[] {
  const desks = values.map(parseDesk);
  const seen = new Set<string>();
  for (const d of desks) {
    for (const k of [`domain ${d.domain}`, `name ${d.name}`, `prefix ${d.prefix}`]) {
      if (seen.has(k)) throw new DeskError(`two desks have the ${k}`);
      seen.add(k);
    }
  }
  return desks;
}
