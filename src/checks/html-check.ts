// The HTML check in Mailpit's html-check shape: each caniemail feature the message's HTML uses
// that some client supports only partly or not at all (a Warning, with each client's support and
// the notes that apply), the platforms tested, and overall percentages. Mailroom adds a score per
// client family (Gmail, Outlook, Apple Mail...), which is what a sender decides by.
//
// Scores are counted over (feature used, client) pairs, each client at its latest tested version,
// clients whose support is unknown left out: Supported is the share of pairs fully supported,
// Partial and Unsupported likewise, and a family's Score is Supported plus half of Partial.
import {
  allClients,
  type ClientSupport,
  DATA_DATE,
  FAMILY_NAMES,
  FEATURES,
  type Feature,
  familyName,
  platformFamilies,
  platformName,
} from './caniemail-data.ts';
import { detectFeatures, SCRIPT_SLUG } from './html-features.ts';

/** Bodies longer than this are checked on their first part only (Truncated says so). */
export const MAX_HTML_CHECKED = 2 * 1024 * 1024;

export interface HtmlCheckResult {
  Platforms: Record<string, string[]>;
  Total: { Nodes: number; Tests: number; Supported: number; Partial: number; Unsupported: number };
  Warnings: HtmlCheckWarning[];
  /** Mailroom: support per client family, in caniemail's order. */
  Families: FamilyScore[];
  /** Mailroom: the HTML was longer than MAX_HTML_CHECKED and was checked in part. */
  Truncated: boolean;
  /** Mailroom: when the caniemail tables used were last updated. */
  DataDate: string;
}

export interface HtmlCheckWarning {
  Slug: string;
  Title: string;
  Description: string;
  URL: string;
  Category: string;
  Tags: string[];
  Keywords: string;
  NotesByNumber: Record<string, string>;
  Results: HtmlCheckClientResult[];
  Score: { Found: number; Supported: number; Partial: number; Unsupported: number };
}

export interface HtmlCheckClientResult {
  Name: string;
  Family: string;
  Platform: string;
  Version: string;
  Support: ClientSupport['support'];
  NoteNumber: string;
  /** Mailroom: every note that applies (Mailpit's NoteNumber holds one). */
  NoteNumbers: string[];
}

export interface FamilyScore {
  Family: string;
  Name: string;
  /** The platforms of this family caniemail tested, by display name. */
  Clients: string[];
  Score: number;
  Supported: number;
  Partial: number;
  Unsupported: number;
  /** Share of the features used for which caniemail has this family's support. */
  Coverage: number;
  /** Features used that this family supports only partly, or not at all. */
  PartialFeatures: number;
  UnsupportedFeatures: number;
}

const round = (n: number) => Math.round(n * 100) / 100;
/** Families known for fewer of the features used than this (percent) get no score. */
const MIN_COVERAGE = 50;

interface Tally {
  yes: number;
  partial: number;
  no: number;
}

function percentages(t: Tally): { Supported: number; Partial: number; Unsupported: number } {
  const known = t.yes + t.partial + t.no;
  if (known === 0) return { Supported: 100, Partial: 0, Unsupported: 0 };
  return {
    Supported: round((t.yes / known) * 100),
    Partial: round((t.partial / known) * 100),
    Unsupported: round((t.no / known) * 100),
  };
}

function tally(clients: readonly ClientSupport[], into: Tally = { yes: 0, partial: 0, no: 0 }): Tally {
  for (const c of clients) {
    if (c.support === 'yes') into.yes++;
    else if (c.support === 'partial') into.partial++;
    else if (c.support === 'no') into.no++;
  }
  return into;
}

/** `<script>`, which caniemail does not list: no client runs it. */
function scriptFeature(): Feature {
  return {
    slug: SCRIPT_SLUG,
    title: '<script> element',
    description: 'No email client runs scripts; most remove the element and some drop the message.',
    url: '',
    category: 'html',
    tags: [],
    keywords: 'javascript',
    notesByNumber: {},
    clients: allClients().map((c) => ({ ...c, version: '', support: 'no' as const, notes: [] })),
  };
}

function warning(feature: Feature, found: number): HtmlCheckWarning {
  return {
    Slug: feature.slug,
    Title: feature.title,
    Description: feature.description,
    URL: feature.url,
    Category: feature.category,
    Tags: feature.tags,
    Keywords: feature.keywords,
    NotesByNumber: feature.notesByNumber,
    Results: feature.clients.map((c) => ({
      Name: `${familyName(c.family)} ${platformName(c.platform)}${c.version ? ` (${c.version})` : ''}`,
      Family: c.family,
      Platform: c.platform,
      Version: c.version,
      Support: c.support,
      NoteNumber: c.notes[0] ?? '',
      NoteNumbers: c.notes,
    })),
    Score: { Found: found, ...percentages(tally(feature.clients)) },
  };
}

function familyScores(used: readonly Feature[]): FamilyScore[] {
  const families = [...new Set(allClients().map((c) => c.family))];
  const order = Object.keys(FAMILY_NAMES);
  families.sort((a, b) => (order.indexOf(a) + 1 || 999) - (order.indexOf(b) + 1 || 999));
  return families.flatMap((family) => {
    const t: Tally = { yes: 0, partial: 0, no: 0 };
    let partialFeatures = 0;
    let unsupportedFeatures = 0;
    let known = 0;
    for (const feature of used) {
      const mine = feature.clients.filter((c) => c.family === family && c.support !== 'unknown');
      if (mine.length > 0) known++;
      tally(mine, t);
      if (mine.some((c) => c.support === 'no')) unsupportedFeatures++;
      else if (mine.some((c) => c.support === 'partial')) partialFeatures++;
    }
    // A family caniemail tested for few of the features used (RainLoop, WP.pl) would get a score
    // from a handful of results; it is left out rather than shown as if it were known.
    const coverage = used.length === 0 ? 100 : round((known / used.length) * 100);
    if (coverage < MIN_COVERAGE) return [];
    const p = percentages(t);
    const clients = allClients()
      .filter((c) => c.family === family)
      .map((c) => platformName(c.platform));
    return {
      Family: family,
      Name: familyName(family),
      Clients: clients,
      Score: round(p.Supported + p.Partial / 2),
      ...p,
      Coverage: coverage,
      PartialFeatures: partialFeatures,
      UnsupportedFeatures: unsupportedFeatures,
    };
  });
}

/** Runs the check over a message's HTML. */
export function checkHtml(html: string): HtmlCheckResult {
  const truncated = html.length > MAX_HTML_CHECKED;
  const { counts, nodes } = detectFeatures(truncated ? html.slice(0, MAX_HTML_CHECKED) : html);
  const used: { feature: Feature; found: number }[] = [];
  for (const [slug, found] of counts) {
    const feature = slug === SCRIPT_SLUG ? scriptFeature() : FEATURES.get(slug);
    if (feature) used.push({ feature, found });
  }
  const total = tally(used.filter((u) => u.feature.slug !== SCRIPT_SLUG).flatMap((u) => u.feature.clients));
  const impact = (w: HtmlCheckWarning) => w.Score.Unsupported + w.Score.Partial / 2;
  const warnings = used
    .filter((u) => u.feature.clients.some((c) => c.support === 'no' || c.support === 'partial'))
    .map((u) => warning(u.feature, u.found))
    .sort((a, b) => impact(b) - impact(a) || b.Score.Found - a.Score.Found || a.Title.localeCompare(b.Title));
  return {
    Platforms: platformFamilies(),
    Total: { Nodes: nodes, Tests: FEATURES.size + 1, ...percentages(total) },
    Warnings: warnings,
    // <script> is reported, but it changes no layout: scores are about what renders.
    Families: familyScores(used.filter((u) => u.feature.slug !== SCRIPT_SLUG).map((u) => u.feature)),
    Truncated: truncated,
    DataDate: DATA_DATE,
  };
}
