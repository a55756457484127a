// `mailroom wait`: blocks until a running Mailroom has a message matching a search, and prints
// it, so that a CI script needs neither sleep loops nor its own HTTP client.
import { parseArgs } from 'node:util';
import { MailroomClient, MailroomError } from '../client/index.ts';
import { ConfigError } from '../config/load.ts';
import { parseWaitDuration } from '../http/routes/wait/schema.ts';
import { clientConfig, connectable, httpUrl } from './endpoints.ts';

export const WAIT_USAGE = `Usage:
  mailroom wait [--query SEARCH] [--timeout 30s] [--after CURSOR] [--tz ZONE] [--url URL]
  mailroom wait --cursor [--url URL]

Waits until a message matching SEARCH (Mailpit's search syntax, e.g. 'to:ann@example.test
subject:"reset"'; none matches any message) has arrived and been parsed, then prints it with its
cursor as JSON: {"Cursor": "…", "Message": {…}}, the message as /api/v1/messages lists it.

Without --after, an existing match is printed at once (the newest). With --after, only messages
stored after that cursor count, oldest first: take 'mailroom wait --cursor' before the mail is
sent, and give each further wait the Cursor the previous one printed, and every message is seen
exactly once. --timeout takes ms, s or m (default 30s).

--url defaults to $MAILROOM_URL (as 'mailroom ci' prints it), else the configured --http-listen
(MAILROOM_HTTP_LISTEN, --config) on this machine. A bearer token or API key with the read scope
comes from $MAILROOM_API_TOKEN, never from the command line.

Exit status: 0 a message matched (or --cursor printed); 1 none arrived in time; 2 usage error,
or the server refused the search; 3 the server could not be asked.
`;

export interface WaitIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const OPTIONS = {
  query: { type: 'string', default: '' },
  timeout: { type: 'string', default: '30s' },
  after: { type: 'string' },
  tz: { type: 'string' },
  url: { type: 'string' },
  cursor: { type: 'boolean', default: false },
  config: { type: 'string' },
} as const;

type WaitArgs = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];

function readArgs(args: string[]): WaitArgs {
  let values: WaitArgs;
  try {
    values = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError(`wait: ${(err as Error).message}\n\n${WAIT_USAGE}`);
  }
  if (parseWaitDuration(values.timeout) === null)
    throw new ConfigError(`wait: --timeout "${values.timeout}" is not a duration such as 500ms, 30s or 2m`);
  if (values.after !== undefined && !/^\d{1,15}$/.test(values.after))
    throw new ConfigError(`wait: --after "${values.after}" is not a cursor (decimal digits)`);
  return values;
}

function baseUrl(a: WaitArgs, env: NodeJS.ProcessEnv): string {
  if (a.url) return a.url;
  if (env.MAILROOM_URL) return env.MAILROOM_URL;
  const listen = connectable(clientConfig(env, a.config).httpListen);
  return listen ? httpUrl(listen.host, listen.port) : 'http://127.0.0.1:8025';
}

/** Runs one wait; returns the exit status. */
export async function runWaitCommand(args: string[], io: WaitIo): Promise<number> {
  const a = readArgs(args);
  const url = baseUrl(a, io.env);
  const token = io.env.MAILROOM_API_TOKEN;
  const client = new MailroomClient(url, token ? { token } : {});
  try {
    if (a.cursor) {
      io.out(`${await client.waitCursor()}\n`);
      return 0;
    }
    const result = await client.waitFor(a.query, {
      timeout: a.timeout,
      ...(a.after !== undefined ? { after: a.after } : {}),
      ...(a.tz !== undefined ? { tz: a.tz } : {}),
    });
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof MailroomError) {
      io.err(`mailroom wait: ${err.message}\n`);
      if (err.status === 408) return 1;
      return err.status === 400 ? 2 : 3;
    }
    const cause = (err as Error & { cause?: Error }).cause;
    io.err(`mailroom wait: cannot reach ${url}: ${cause?.message ?? (err as Error).message}\n`);
    return 3;
  }
}
