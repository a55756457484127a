// Structured JSON logs (pino). Every line carries scope ids through child loggers
// (session, message). Credentials never reach a log: the redaction list below is applied at every
// level, and SMTP AUTH data is never passed to the logger in the first place.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'pass',
  '*.pass',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'databaseUrl',
  '*.databaseUrl',
  'config.databaseUrl',
  'trackingSecret',
  '*.trackingSecret',
  'webhookSecret',
  '*.webhookSecret',
  'secrets',
  '*.secrets',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mailroom' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** Removes the password from a database URL before it is shown anywhere. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
