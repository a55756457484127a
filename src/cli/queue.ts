// `mailroom queue`: the operator's view of the outbound queue, straight on the configured store
// (like Postfix's mailq and postsuper), so it works whether or not a server is running.
import { ConfigError, loadConfig } from '../config/load.ts';
import {
  DELIVERY_STATES,
  type DeliveryRecord,
  type DeliveryState,
  type QueueAction,
} from '../domain/delivery.ts';

export const QUEUE_USAGE = `Usage:
  mailroom queue list [--state S] [--limit N] [--json] [store options]
  mailroom queue show <message-id> [store options]
  mailroom queue hold|release|retry|cancel <delivery-id>... [store options]

Store options are those of 'mailroom start' that choose the store (--data-dir, --database-url,
--config). States: queued, sending, deferred, held, delivered, bounced, expired, cancelled.
`;

const ACTIONS = new Set<QueueAction>(['hold', 'release', 'retry', 'cancel']);
const STATES = new Set<string>(DELIVERY_STATES);

export interface QueueIo {
  out: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/** Takes `--name value` (or `--name` alone for a boolean) out of argv; the rest goes to the config. */
function takeFlag(argv: string[], name: string, boolean = false): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const value = boolean ? 'true' : argv[i + 1];
  if (value === undefined) throw new ConfigError(`queue: --${name} needs a value`);
  argv.splice(i, boolean ? 1 : 2);
  return value;
}

function line(d: DeliveryRecord): string {
  const rcpts = d.recipients.map((r) => r.address).join(',');
  return [
    d.id,
    d.state.padEnd(9),
    String(d.attempts).padStart(3),
    d.nextAttemptAt,
    d.outboundId,
    rcpts,
    d.lastReply ?? '',
  ]
    .join('  ')
    .trimEnd();
}

/** Runs one queue command; returns the process exit code (0 ok, 1 some id refused). */
export async function runQueueCommand(args: string[], io: QueueIo): Promise<number> {
  const [sub, ...rest] = args;
  // Ids come first, before any option: `mailroom queue hold ID1 ID2 --data-dir d`.
  const firstOption = rest.findIndex((a) => a.startsWith('--'));
  const ids = firstOption < 0 ? rest : rest.slice(0, firstOption);
  const configArgv = firstOption < 0 ? [] : rest.slice(firstOption);
  const state = takeFlag(configArgv, 'state');
  const limit = takeFlag(configArgv, 'limit');
  const asJson = takeFlag(configArgv, 'json', true) !== undefined;
  if (state !== undefined && !STATES.has(state as DeliveryState))
    throw new ConfigError(`queue: unknown state "${state}"`);
  const max = limit === undefined ? 100 : Number(limit);
  if (!Number.isInteger(max) || max < 1 || max > 10_000)
    throw new ConfigError('queue: --limit must be 1 to 10000');
  if (sub !== 'list' && ids.length === 0)
    throw new ConfigError(`queue ${sub ?? ''}: which id?\n\n${QUEUE_USAGE}`);
  if (sub !== 'list' && sub !== 'show' && !ACTIONS.has(sub as QueueAction)) {
    throw new ConfigError(`queue: unknown command "${sub ?? ''}"\n\n${QUEUE_USAGE}`);
  }

  const config = loadConfig({ argv: configArgv, env: io.env });
  const { openConfiguredStorage } = await import('../app.ts');
  const storage = await openConfiguredStorage(config);
  try {
    const queue = storage.outbound;
    if (sub === 'list') {
      const list = await queue.deliveries({
        start: 0,
        limit: max,
        ...(state ? { state: state as DeliveryState } : {}),
      });
      io.out(asJson ? `${JSON.stringify(list, null, 2)}\n` : list.map((d) => `${line(d)}\n`).join(''));
      return 0;
    }
    if (sub === 'show') {
      const view = await queue.get(ids[0]!);
      if (!view) {
        io.out(`no outbound message ${ids[0]}\n`);
        return 1;
      }
      io.out(`${JSON.stringify({ ...view, events: await queue.events(view.id) }, null, 2)}\n`);
      return 0;
    }
    let failed = 0;
    for (const id of ids) {
      const result = await queue.control(id, sub as QueueAction, new Date().toISOString());
      if (result === null) io.out(`${id}: no such delivery\n`);
      else if (result === false) io.out(`${id}: cannot ${sub} a delivery in its present state\n`);
      else io.out(`${id}: ${result.state}\n`);
      if (!result) failed++;
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await storage.close();
  }
}
