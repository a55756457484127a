// The caniemail.com support tables (npm package `caniemail`), read once into the form the HTML
// check needs: per feature, each client's support at the most recent version caniemail tested.
// Older versions are left out on purpose: support in Gmail of 2019 says nothing about a message
// sent today. The data's Markdown (descriptions, notes) becomes plain text, so no consumer has
// to render HTML that came from a package.
import { rawData } from 'caniemail';

export type Support = 'yes' | 'no' | 'partial' | 'unknown';

export interface ClientSupport {
  /** caniemail's family key: gmail, outlook, apple-mail... */
  family: string;
  /** caniemail's platform key: desktop-webmail, windows, ios... */
  platform: string;
  version: string;
  support: Support;
  /** Numbers of the feature's notes that apply. */
  notes: string[];
}

export interface Feature {
  slug: string;
  title: string;
  description: string;
  url: string;
  category: string;
  tags: string[];
  keywords: string;
  notesByNumber: Record<string, string>;
  clients: ClientSupport[];
}

/** Markdown links, code spans and emphasis as plain text. */
export function plainText(markdown: string | null | undefined): string {
  return (markdown ?? '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Versions are years, dates ("2024-05") or dotted numbers; compared number by number. */
export function compareVersions(a: string, b: string): number {
  const pa = a.match(/\d+/g)?.map(Number) ?? [];
  const pb = b.match(/\d+/g)?.map(Number) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

/** caniemail's codes: y, n, a (partial), u (unknown), each maybe followed by "#n" notes. */
function supportOf(value: string): { support: Support; notes: string[] } {
  const notes = [...value.matchAll(/#(\d+)/g)].map((m) => m[1] ?? '');
  const code = value.trim().charAt(0);
  const support: Support = code === 'y' ? 'yes' : code === 'n' ? 'no' : code === 'a' ? 'partial' : 'unknown';
  return { support, notes };
}

type Stats = Record<string, Record<string, Record<string, string>>>;

function latestPerClient(stats: Stats): ClientSupport[] {
  const out: ClientSupport[] = [];
  for (const [family, platforms] of Object.entries(stats)) {
    for (const [platform, versions] of Object.entries(platforms)) {
      const version = Object.keys(versions).sort(compareVersions).at(-1);
      if (version === undefined) continue;
      out.push({ family, platform, version, ...supportOf(versions[version] ?? '') });
    }
  }
  return out;
}

function load(): Map<string, Feature> {
  const features = new Map<string, Feature>();
  for (const f of rawData.data) {
    const tags = (f as { tags?: unknown }).tags;
    features.set(f.slug, {
      slug: f.slug,
      title: f.title.trim(),
      description: plainText(f.description),
      url: f.url,
      category: f.category,
      tags: Array.isArray(tags) ? tags.map(String) : [],
      keywords: f.keywords ?? '',
      notesByNumber: Object.fromEntries(
        Object.entries(f.notes_by_num ?? {}).map(([n, note]) => [n, plainText(note)]),
      ),
      clients: latestPerClient(f.stats as Stats),
    });
  }
  return features;
}

/** Every feature caniemail describes, by slug. Built from static data at first import. */
export const FEATURES: ReadonlyMap<string, Feature> = load();

/** Display names, in caniemail's order (which starts with the most used clients). */
export const FAMILY_NAMES: Readonly<Record<string, string>> = rawData.nicenames.family;
export const PLATFORM_NAMES: Readonly<Record<string, string>> = rawData.nicenames.platform;
/** When the bundled tables were last updated. */
export const DATA_DATE: string = rawData.last_update_date;

export const familyName = (family: string) => FAMILY_NAMES[family] ?? family;
export const platformName = (platform: string) => PLATFORM_NAMES[platform] ?? platform;

function clientsOf(features: ReadonlyMap<string, Feature>): readonly { family: string; platform: string }[] {
  const seen = new Map<string, { family: string; platform: string }>();
  for (const f of features.values()) {
    for (const c of f.clients)
      seen.set(`${c.family}.${c.platform}`, { family: c.family, platform: c.platform });
  }
  return [...seen.values()];
}

const ALL_CLIENTS = clientsOf(FEATURES);

/** Every client (family and platform) that appears anywhere in the tables. */
export function allClients(): readonly { family: string; platform: string }[] {
  return ALL_CLIENTS;
}

/** Mailpit's Platforms: platform → the families tested on it, by display name, sorted. */
export function platformFamilies(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { family, platform } of allClients()) {
    const list = out[platform] ?? [];
    if (!list.includes(familyName(family))) list.push(familyName(family));
    out[platform] = list;
  }
  for (const list of Object.values(out)) list.sort((a, b) => a.localeCompare(b));
  return out;
}
