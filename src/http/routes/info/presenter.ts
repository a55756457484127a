// Mailpit's AppInformation shape (GET /api/v1/info).
import type { Config } from '../../../config/schema.ts';
import type { Counter, Metrics } from '../../../observability/metrics.ts';
import type { StorageCapabilities, StoreStats, TagCount } from '../../../storage/ports.ts';

/** Sum over every label set of a counter, read from its exposition lines ("name{…} value"). */
export function counterTotal(counter: Counter): number {
  return counter.lines().reduce((sum, line) => sum + (Number(line.slice(line.lastIndexOf(' ') + 1)) || 0), 0);
}

/** Where the data lives, for operators; a PostgreSQL URL is shown without password or parameters. */
export function describeDatabase(capabilities: StorageCapabilities, config: Config): string {
  if (capabilities.engine === 'postgres' && config.databaseUrl) {
    try {
      const u = new URL(config.databaseUrl);
      // Query parameters may carry credentials too (libpq accepts ?password=).
      u.password = '';
      u.search = '';
      return u.toString();
    } catch {
      return 'postgres';
    }
  }
  return `${capabilities.engine} in ${config.dataDir}`;
}

export interface InfoInput {
  version: string;
  database: string;
  stats: StoreStats;
  uptimeSeconds: number;
  memoryBytes: number;
  messagesDeleted: number;
  metrics: Metrics;
  tags: TagCount[];
}

/** Mailpit's WebUIConfiguration: what the UI should offer. */
export function presentWebUi(config: Config) {
  return {
    Label: config.uiLabel,
    // Release (POST /api/v1/message/{ID}/release): on with --release-host; Message-IDs are kept.
    MessageRelay: {
      Enabled: config.releaseHost !== '',
      SMTPServer: config.releaseHost,
      ReturnPath: config.releaseFrom,
      AllowedRecipients: config.releaseAllow.join(','),
      BlockedRecipients: config.releaseBlock.join(','),
      OverrideFrom: config.releaseFrom,
      PreserveMessageIDs: config.releaseHost !== '',
    },
    SpamAssassin: config.spamassassin !== '' || config.rspamd !== '',
    // The chaos API answers on a node with the smtp role (the triggers live with the listeners).
    ChaosEnabled: (config.chaosEnabled || config.chaos !== '') && config.roles.includes('smtp'),
    DuplicatesIgnored: false,
    HideDeleteAllButton: false,
  };
}

export function presentInfo(i: InfoInput) {
  return {
    Version: i.version,
    // Mailroom never calls out to check for releases.
    LatestVersion: '',
    Database: i.database,
    // The engine's own size when it reports one (SQLite file), else the stored message bytes.
    DatabaseSize: i.stats.databaseBytes > 0 ? i.stats.databaseBytes : i.stats.bytes,
    Messages: i.stats.messages,
    Unread: i.stats.unread,
    Tags: Object.fromEntries(i.tags.map((t) => [t.name, t.messages])) as Record<string, number>,
    RuntimeStats: {
      Uptime: i.uptimeSeconds,
      Memory: i.memoryBytes,
      MessagesDeleted: i.messagesDeleted,
      SMTPAccepted: counterTotal(i.metrics.messagesAccepted),
      SMTPAcceptedSize: counterTotal(i.metrics.bytesAccepted),
      SMTPRejected: counterTotal(i.metrics.messagesRejected),
      // Mailpit counts messages dropped as duplicates; Mailroom never drops accepted mail.
      SMTPIgnored: 0,
    },
  };
}
