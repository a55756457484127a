// CLI entry: `mailroom <command> [options]`. Parses argv into a Config and starts the roles.
// The server modules load lazily so `config-doc`, `--help` and `--version` stay instant.
import { ConfigError, configMarkdown, helpText, loadConfig } from './config/load.ts';
import { VERSION } from './version.ts';

const SHUTDOWN_DEADLINE_MS = 20_000;

const USAGE = `mailroom ${VERSION}: the email backend for applications

Usage:
  mailroom start [options]     run Mailroom (SMTP, API, workers); see 'mailroom start --help'
  mailroom queue ...           list and act on the outbound queue; see 'mailroom queue help'
  mailroom keys ...            make, list and revoke API keys; see 'mailroom keys help'
  mailroom dkim keygen ...     make a DKIM key and print its DNS record; see 'mailroom dkim help'
  mailroom wait ...            wait for a message matching a search; see 'mailroom wait --help'
  mailroom sendmail ...        a sendmail for applications: submit stdin over SMTP; see 'mailroom sendmail --help'
  mailroom ci --expect N ...   a capture sandbox that exits once N messages came; see 'mailroom ci --help'
  mailroom hash-password       read a password on stdin, print a hash for --smtp-auth-file
  mailroom config-doc          print the configuration reference (Markdown)
  mailroom --version
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function start(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  const config = loadConfig({ argv, env: process.env });
  const { startMailroom } = await import('./app.ts');
  const mailroom = await startMailroom(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    mailroom.logger.info({ signal }, 'shutting down');
    // A part that cannot close (a hung database) must not keep the process alive for ever.
    setTimeout(() => {
      process.stderr.write(`mailroom: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    mailroom.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`mailroom: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  switch (command) {
    case 'start':
      return start(rest);
    case 'hash-password': {
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (!password) throw new ConfigError('hash-password: no password on standard input');
      const { hashPassword } = await import('./smtp/auth-file.ts');
      process.stdout.write(`${await hashPassword(password)}\n`);
      return;
    }
    case 'queue': {
      const { runQueueCommand, QUEUE_USAGE } = await import('./cli/queue.ts');
      if (rest.length === 0 || rest[0] === 'help' || rest.includes('--help')) {
        process.stdout.write(QUEUE_USAGE);
        return;
      }
      process.exitCode = await runQueueCommand(rest, {
        out: (t) => process.stdout.write(t),
        env: process.env,
      });
      return;
    }
    case 'keys': {
      const { runKeysCommand, KEYS_USAGE } = await import('./cli/keys.ts');
      if (rest.length === 0 || rest[0] === 'help' || rest.includes('--help')) {
        process.stdout.write(KEYS_USAGE);
        return;
      }
      process.exitCode = await runKeysCommand(rest, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        env: process.env,
      });
      return;
    }
    case 'dkim': {
      const { runDkimCommand, DKIM_USAGE } = await import('./cli/dkim.ts');
      if (rest.length === 0 || rest[0] === 'help' || rest.includes('--help')) {
        process.stdout.write(DKIM_USAGE);
        return;
      }
      const io = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stderr.write(t) };
      process.exitCode = await runDkimCommand(rest, io);
      return;
    }
    case 'wait': {
      const { runWaitCommand, WAIT_USAGE } = await import('./cli/wait.ts');
      if (rest[0] === 'help' || rest.includes('--help')) {
        process.stdout.write(WAIT_USAGE);
        return;
      }
      const io = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stderr.write(t) };
      process.exitCode = await runWaitCommand(rest, { ...io, env: process.env });
      return;
    }
    case 'sendmail': {
      const { runSendmail, SENDMAIL_USAGE } = await import('./cli/sendmail.ts');
      if (rest[0] === 'help' || rest.includes('--help')) {
        process.stdout.write(SENDMAIL_USAGE);
        return;
      }
      const err = (t: string) => process.stderr.write(t);
      process.exitCode = await runSendmail(rest, { stdin: process.stdin, err, env: process.env });
      return;
    }
    case 'ci': {
      const { runCiCommand, CI_USAGE } = await import('./cli/ci.ts');
      if (rest[0] === 'help' || rest.includes('--help')) {
        process.stdout.write(CI_USAGE);
        return;
      }
      const code = await runCiCommand(rest, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        env: process.env,
        log: process.stderr,
        onSignal: (stop) => {
          const onInt = () => stop('SIGINT');
          const onTerm = () => stop('SIGTERM');
          process.on('SIGINT', onInt);
          process.on('SIGTERM', onTerm);
          return () => {
            process.off('SIGINT', onInt);
            process.off('SIGTERM', onTerm);
          };
        },
      });
      // Like `start`: whatever a closed part left behind (a timer, a socket) must not keep the job waiting.
      return process.exit(code);
    }
    case 'config-doc':
      process.stdout.write(configMarkdown());
      return;
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new ConfigError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as Error;
  // Configuration mistakes get one clear line; anything else keeps its stack for the operator.
  process.stderr.write(
    e instanceof ConfigError ? `mailroom: ${e.message}\n` : `mailroom: ${e.stack ?? e.message}\n`,
  );
  process.exit(e instanceof ConfigError ? 2 : 1);
});
