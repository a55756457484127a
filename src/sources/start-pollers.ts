// Starts one poller per configured mailbox (--poll) on a worker node, each feeding the import sink.
// Every node with the worker role polls: the import keys make a message stored once even when two
// nodes fetch it at the same moment (see storage/postgres/intake.ts).
import type { Logger } from '../observability/logger.ts';
import { createImapPoller } from './imap-poller.ts';
import { createPop3Poller } from './pop3-poller.ts';
import type { ImportSink, Poller, PollerAccount } from './types.ts';

export function startPollers(
  accounts: readonly PollerAccount[],
  deps: { sink: ImportSink; logger: Logger },
): { stop(): Promise<void> } {
  const pollers: Poller[] = accounts.map((account) => {
    const logger = deps.logger.child({ scope: 'poller', account: account.name });
    const make = account.protocol === 'imap' ? createImapPoller : createPop3Poller;
    return make(account, { sink: deps.sink, logger });
  });
  for (const p of pollers) p.start();
  if (pollers.length > 0) deps.logger.info({ accounts: accounts.map((a) => a.name) }, 'polling mailboxes');
  return { stop: async () => void (await Promise.all(pollers.map((p) => p.stop()))) };
}
