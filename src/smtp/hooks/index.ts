// The hook set a session runs, built from config; tests may replace single hooks.
import type { Config } from '../../config/schema.ts';
import type { AuthUsers } from '../auth-file.ts';
import { type AuthHook, createAuthHook } from './auth.ts';
import { type ChaosHook, createChaosHook } from './chaos.ts';
import { type ConnectHook, createConnectHook } from './connect.ts';
import { createDataHook, type DataHook } from './data.ts';
import { createMailFromHook, type MailFromHook } from './mail-from.ts';
import { createRcptToHook, type RcptToHook, type RecipientCheck } from './rcpt-to.ts';

export interface Hooks {
  connect: ConnectHook;
  auth: AuthHook;
  mailFrom: MailFromHook;
  rcptTo: RcptToHook;
  data: DataHook;
  /** Chaos testing, before each stage's own hook; never fails anything unless chaos is configured. */
  chaos: ChaosHook;
}

export function createHooks(
  config: Config,
  users: AuthUsers | null,
  overrides: Partial<Hooks> = {},
  recipients?: RecipientCheck,
): Hooks {
  return {
    connect: createConnectHook(config),
    auth: createAuthHook({ users, acceptAny: config.smtpAuthAcceptAny }),
    mailFrom: createMailFromHook((user) => users?.senderDomains(user) ?? []),
    rcptTo: createRcptToHook(config, recipients),
    data: createDataHook(config),
    chaos: createChaosHook(null),
    ...overrides,
  };
}
