// bench/inbox: a deterministic corpus of realistic messages for the inbox benchmark. Message i of
// a given seed is always the same bytes, so Mailroom on each engine and the Mailpit peer receive
// the same mail. Shapes are modelled on an application's outgoing mail: order and invoice mail,
// password resets, newsletters (HTML alternative, X-Tags, X-Campaign), alerts, tracker
// notifications, contact-form mail and person-to-person threads (some with Cc and attachments).
// Text bodies are 0.5–5 KB; recipients are sometimes plus-addressed; Date headers span months.
//
// Besides the bytes, each message yields a small `SearchView` (the normalised fields a search
// reads) so the benchmark can say how many messages each query should match.

/** The normalised fields a search looks at, as the benchmark's expectations read them. */
export interface SearchView {
  /** Lower-case, accent-free `name <address>` of the sender. */
  from: string;
  /** Same, one line per To recipient. */
  to: string;
  subject: string;
  /** X-Tags names and the +tag of plus-addressed recipients, lower case. */
  tags: string[];
  attachments: number;
  /** Header lines `name: value`, names and values lower case. */
  headers: string;
  /** Subject, address names and addresses, attachment names and body text, normalised. */
  words: string;
}

export interface GeneratedMessage {
  raw: Buffer;
  mailFrom: string;
  rcptTo: string[];
  view: SearchView;
}

/** mulberry32: small, fast and good enough to vary test mail. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function int(r: Rand, min: number, max: number): number {
  return min + Math.floor(r() * (max - min + 1));
}

const FIRST = [
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Ava',
  'Elijah',
  'Sophia',
  'James',
  'Isabella',
  'Lucas',
  'Mia',
  'Mateo',
  'Amelia',
  'Ethan',
  'Harper',
  'Aiden',
  'Zoë',
  'José',
  'Renée',
  'Björn',
  'Ana',
  'Chen',
  'Priya',
  'Kenji',
  'Fatima',
  'Omar',
  'Ingrid',
  'Lars',
  'Aoife',
  'Siobhan',
  'Dmitri',
  'Yusuf',
  'Camille',
  'Hugo',
  'Lena',
  'Marta',
  'Tomás',
  'Nora',
  'Ravi',
  'Mei',
];
const LAST = [
  'Smith',
  'Johnson',
  'García',
  'Müller',
  'Rossi',
  'Nakamura',
  'Kowalski',
  'Dubois',
  'Okafor',
  'Silva',
  'Patel',
  'Nguyen',
  'Andersson',
  'Novak',
  'Kim',
  'Hansen',
  'Murphy',
  'Jensen',
  'Costa',
  'Fischer',
  'Brown',
  'Lopez',
  'Wilson',
  'Moreau',
  'Ivanova',
  'Haddad',
  'Tanaka',
  'Schmidt',
  'Larsen',
  'Kaur',
];
const USER_DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'customer.test', 'inbox.example'];
const PEOPLE_DOMAINS = ['example.net', 'people.example', 'post.example.org', 'home.test'];
const PLUS_TAGS = ['signup', 'reset', 'billing', 'promo', 'beta'];
const TOPICS = [
  'quarterly planning',
  'the offsite',
  'budget review',
  'release notes',
  'onboarding',
  'the roadmap',
  'hiring',
  'customer feedback',
  'the migration',
  'café opening',
  'design review',
  'security audit',
];
const PROJECTS = ['atlas', 'borealis', 'cobalt', 'delta-api', 'ember', 'fjord', 'gondola'];
const HOSTS = ['web-01', 'web-02', 'web-03', 'db-01', 'queue-02', 'cache-01'];
const METRICS = ['CPU', 'Memory', 'Disk', 'Latency', 'Error rate'];
const CAMPAIGNS = ['spring-sale', 'summer-launch', 'autumn-update', 'winter-digest'];
const PRODUCTS = [
  'desk lamp',
  'notebook',
  'backpack',
  'coffee grinder',
  'headphones',
  'water bottle',
  'keyboard',
];

/**
 * Filler vocabulary for body text, most frequent first (sampled with a Zipf-like skew). None of
 * the benchmark's query words (invoice, shipped, digest...) is here, so their counts depend only
 * on the message templates.
 */
const VOCAB = (
  'the of and to a in is it you that he was for on are with as his they be at one have this from ' +
  'or had by hot but some what there we can out other were all your when up use word how said an ' +
  'each she which do their time if will way about many then them would write like so these her long ' +
  'make thing see him two has look more day could go come did my sound no most number who over know ' +
  'water than call first people may down side been now find any new work part take get place made ' +
  'live where after back little only round man year came show every good me give our under name ' +
  'very through just form much great think say help low line before turn cause same mean differ ' +
  'move right boy old too does tell sentence set three want air well also play small end put home ' +
  'read hand port large spell add even land here must big high such follow act why ask men change ' +
  'went light kind off need house picture try us again animal point mother world near build self ' +
  'earth father head stand own page should country found answer school grow study still learn plant ' +
  'cover food sun four thought let keep eye never last door between city tree cross since hard start ' +
  'might story saw far sea draw left late run while press close night real life few stop open seem ' +
  'together next white children begin got walk example ease paper often always music those both mark ' +
  'book letter until mile river car feet care second group carry took rain eat room friend began idea ' +
  'fish mountain north once base hear horse cut sure watch color face wood main enough plain girl ' +
  'usual young ready above ever red list though feel talk bird soon body dog family direct pose leave ' +
  'song measure state product black short numeral class wind question happen complete ship area half ' +
  'rock order fire south problem piece told knew pass farm top whole king size heard best hour better ' +
  'true during hundred am remember step early hold west ground interest reach fast five sing listen ' +
  'six table travel less morning ten simple several vowel toward war lay against pattern slow center ' +
  'love person money serve appear road map science rule govern pull cold notice voice fall power town ' +
  'fine certain fly unit lead cry dark machine note wait plan figure star box noun field rest correct ' +
  'able pound done beauty drive stood contain front teach week final gave green oh quick develop sleep ' +
  'warm free minute strong special mind behind clear tail produce fact street inch lot nothing course ' +
  'stay wheel full force blue object decide surface deep moon island foot yet busy test record boat ' +
  'common gold possible plane age dry wonder laugh thousand ago ran check game shape yes cool miss ' +
  'brought heat snow bed bring sit perhaps fill east weight language among'
).split(' ');

/** A word of filler, common words far more often than rare ones. */
function word(r: Rand): string {
  return VOCAB[Math.floor(VOCAB.length * r() ** 2.2)]!;
}

/**
 * Paragraphs of filler sentences until about `target` characters, wrapped at 76 columns as it
 * goes (this runs for every message sent, so it avoids building and re-splitting strings).
 */
function filler(r: Rand, target: number): string {
  const lines: string[] = [];
  let size = 0;
  let line = '';
  while (size < target) {
    const sentences = int(r, 2, 5);
    for (let s = 0; s < sentences; s++) {
      const words = int(r, 6, 18);
      for (let k = 0; k < words; k++) {
        let w = word(r);
        if (k === 0) w = w[0]!.toUpperCase() + w.slice(1);
        if (k === words - 1) w += '.';
        if (line === '') line = w;
        else if (line.length + 1 + w.length > 76) {
          lines.push(line);
          size += line.length + 2;
          line = w;
        } else line += ` ${w}`;
      }
    }
    lines.push(line, '');
    size += line.length + 4;
    line = '';
  }
  lines.pop();
  return lines.join('\r\n');
}

function wrap(text: string, width = 76): string {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join('\r\n');
}

/** Lower case without accents: what the server's normalisation does to these (Latin) names. */
export function fold(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** An RFC 2047 encoded word when the text is not plain ASCII. */
function headerText(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s).toString('base64')}?=`;
}

interface Mailbox {
  name: string;
  address: string;
}

function mailboxHeader(m: Mailbox): string {
  if (!m.name) return `<${m.address}>`;
  const name = headerText(m.name);
  return name === m.name && /[^\w .-]/.test(name) ? `"${name}" <${m.address}>` : `${name} <${m.address}>`;
}

function mailboxView(m: Mailbox): string {
  return fold(m.name ? `${m.name} <${m.address}>` : `<${m.address}>`);
}

function person(r: Rand, domains: readonly string[]): Mailbox {
  const first = pick(r, FIRST);
  const last = pick(r, LAST);
  return { name: `${first} ${last}`, address: `${fold(first)}.${fold(last)}@${pick(r, domains)}` };
}

/** One of the application's users; a quarter of them are written plus-addressed. */
function user(r: Rand): { box: Mailbox; plus: string | null } {
  const p = person(r, USER_DOMAINS);
  if (r() >= 0.25) return { box: p, plus: null };
  const tag = pick(r, PLUS_TAGS);
  const [local, domain] = p.address.split('@') as [string, string];
  return { box: { name: p.name, address: `${local}+${tag}@${domain}` }, plus: tag };
}

interface Attachment {
  name: string;
  type: string;
  size: number;
}

interface Draft {
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  subject: string;
  /** The opening lines written by the template; filler follows. */
  intro: string;
  xTags: string[];
  campaign: string | null;
  html: boolean;
  attachment: Attachment | null;
  plusTags: string[];
}

const KINDS: readonly [number, (r: Rand, d: Draft) => void][] = [
  [18, order],
  [12, invoice],
  [8, security],
  [15, newsletter],
  [7, alert],
  [15, notification],
  [5, contact],
  [20, personal],
];
const KIND_WEIGHT = KINDS.reduce((s, [w]) => s + w, 0);

function order(r: Rand, d: Draft): void {
  const n = int(r, 10000, 99999);
  d.from = { name: 'Northwind Orders', address: 'orders@northwind.example' };
  const item = pick(r, PRODUCTS);
  if (r() < 0.5) {
    d.subject = `Order #${n} confirmed`;
    d.intro = `Thanks for your order #${n}. We are getting your ${item} ready.`;
  } else {
    d.subject = `Your order #${n} has shipped`;
    d.intro = `Good news: your order #${n} has shipped. Your ${item} is on its way.`;
  }
}

function invoice(r: Rand, d: Draft): void {
  const id = `INV-${int(r, 2024, 2026)}-${String(int(r, 1, 9999)).padStart(4, '0')}`;
  const billing = pick(r, [
    { name: 'Acme Billing', address: 'billing@acme.example' },
    { name: 'Contoso Accounts', address: 'billing@contoso.example' },
  ]);
  d.from = billing;
  d.subject = `Invoice ${id} from ${billing.name.split(' ')[0]}`;
  if (r() < 0.6) {
    d.attachment = { name: `invoice-${id}.pdf`, type: 'application/pdf', size: int(r, 8_000, 40_000) };
    d.intro = `Please find invoice ${id} attached. The amount is due in 30 days.`;
  } else {
    d.intro = `Invoice ${id} is available in your account. The amount is due in 30 days.`;
  }
  if (r() < 0.5) d.xTags.push('receipt');
}

function security(r: Rand, d: Draft): void {
  d.from = { name: 'Fabrikam Security', address: 'no-reply@fabrikam.example' };
  if (r() < 0.5) {
    d.subject = 'Reset your password';
    d.intro = 'Someone asked to reset the password of your account. The link below works for one hour.';
  } else {
    d.subject = `New sign-in from ${pick(r, ['Firefox on Linux', 'Safari on iPhone', 'Chrome on Windows'])}`;
    d.intro = 'Your account was just used to sign in from a new device.';
  }
}

function newsletter(r: Rand, d: Draft): void {
  d.from = pick(r, [
    { name: 'The Tailspin Weekly', address: 'newsletter@tailspin.example' },
    { name: 'Litware Digest', address: 'digest@litware.example' },
  ]);
  d.subject = `Weekly digest: ${int(r, 3, 9)} new posts about ${pick(r, TOPICS)}`;
  d.intro = 'Here is what happened this week.';
  d.xTags.push('newsletter');
  if (r() < 0.3) d.xTags.push('promo');
  d.campaign = pick(r, CAMPAIGNS);
  d.html = true;
}

function alert(r: Rand, d: Draft): void {
  d.from = { name: 'Monitoring', address: 'alerts@ops.example.net' };
  d.to = [{ name: 'On call', address: 'oncall@ops.example.net' }];
  d.plusTags = [];
  const firing = r() < 0.6;
  d.subject = `[${firing ? 'ALERT' : 'RESOLVED'}] ${pick(r, METRICS)} high on ${pick(r, HOSTS)}`;
  d.intro = firing ? 'The threshold was crossed for 5 minutes.' : 'The value is back under its threshold.';
  if (firing) d.xTags.push('urgent');
}

function notification(r: Rand, d: Draft): void {
  const actor = person(r, PEOPLE_DOMAINS);
  d.from = { name: `${actor.name} via Tracker`, address: 'notifications@tracker.example' };
  const issue = int(r, 1, 4000);
  d.subject = `${actor.name} commented on issue #${issue} in ${pick(r, PROJECTS)}`;
  d.intro = `${actor.name.split(' ')[0]} wrote:`;
}

function contact(r: Rand, d: Draft): void {
  const visitor = person(r, PEOPLE_DOMAINS);
  d.from = { name: 'Website', address: 'forms@example.com' };
  d.to = [{ name: 'Support', address: 'support@example.com' }];
  d.plusTags = [];
  d.subject = `Contact form: question from ${visitor.name}`;
  d.intro = `${visitor.name} <${visitor.address}> sent this message through the contact form.`;
}

function personal(r: Rand, d: Draft): void {
  d.from = person(r, PEOPLE_DOMAINS);
  const topic = pick(r, TOPICS);
  d.subject = r() < 0.5 ? `Re: ${topic}` : `About ${topic} next week?`;
  d.intro = `Hi ${d.to[0]!.name.split(' ')[0]},`;
  if (r() < 0.3) d.cc.push(person(r, PEOPLE_DOMAINS));
  if (r() < 0.15) {
    d.attachment = pick(r, [
      { name: 'photo.jpg', type: 'image/jpeg', size: int(r, 30_000, 90_000) },
      { name: 'report-q3.xlsx', type: 'application/vnd.ms-excel', size: int(r, 8_000, 30_000) },
      { name: 'notes.pdf', type: 'application/pdf', size: int(r, 8_000, 40_000) },
    ]);
  }
}

/** Bytes shared by every attachment (random-looking, so nothing compresses it away). */
const BLOB = (() => {
  const r = rng(0x5eed);
  const b = Buffer.alloc(128 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
})();

function base64Lines(b: Buffer): string {
  const s = b.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += 76) lines.push(s.slice(i, i + 76));
  return lines.join('\r\n');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

const DAY_MS = 86_400_000;

export interface CorpusOptions {
  seed: number;
  count: number;
  /** The Date header of the first message; later ones move forward to about `spanDays` after it. */
  firstDate?: number;
  spanDays?: number;
}

/** Generates message `i` of the corpus; cheap enough to call from the sending loop. */
export class Corpus {
  readonly count: number;
  /** A word only the last message contains: searching it tells when the last one is indexed. */
  readonly marker: string;
  private readonly seed: number;
  private readonly firstDate: number;
  private readonly spanMs: number;

  constructor(opts: CorpusOptions) {
    this.count = opts.count;
    this.seed = opts.seed;
    this.firstDate = opts.firstDate ?? Date.UTC(2026, 0, 5, 8, 0, 0);
    this.spanMs = (opts.spanDays ?? 180) * DAY_MS;
    this.marker = `mrbenchend${(opts.seed >>> 0).toString(36)}x${opts.count.toString(36)}`;
  }

  message(i: number): GeneratedMessage {
    const r = rng(Math.imul(this.seed ^ 0x9e3779b9, 31) + i * 2654435761);
    const recipient = user(r);
    const d: Draft = {
      from: { name: '', address: '' },
      to: [recipient.box],
      cc: [],
      subject: '',
      intro: '',
      xTags: [],
      campaign: null,
      html: false,
      attachment: null,
      plusTags: recipient.plus ? [recipient.plus] : [],
    };
    let w = r() * KIND_WEIGHT;
    for (const [weight, kind] of KINDS) {
      w -= weight;
      if (w < 0) {
        kind(r, d);
        break;
      }
    }
    // Text bodies between 0.5 and 5 KB, smaller ones more common (log-uniform).
    const target = Math.round(512 * 10 ** r());
    let text = `${wrap(d.intro)}\r\n\r\n${filler(r, Math.max(0, target - d.intro.length))}`;
    if (i === this.count - 1) text += `\r\n\r\n${this.marker}`;
    text += '\r\n';

    const date = new Date(
      this.firstDate + Math.floor((this.spanMs * i) / Math.max(1, this.count)) + int(r, 0, 600_000),
    );
    const headers = [
      `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
      `From: ${mailboxHeader(d.from)}`,
      `To: ${d.to.map(mailboxHeader).join(', ')}`,
      ...(d.cc.length ? [`Cc: ${d.cc.map(mailboxHeader).join(', ')}`] : []),
      `Subject: ${headerText(d.subject)}`,
      `Message-ID: <${i}.${Math.floor(r() * 1e9).toString(36)}@${d.from.address.split('@')[1]}>`,
      'MIME-Version: 1.0',
      ...(d.xTags.length ? [`X-Tags: ${d.xTags.join(', ')}`] : []),
      ...(d.campaign ? [`X-Campaign: ${d.campaign}`] : []),
    ];
    const plain = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'];
    let body: string;
    if (d.attachment) {
      const a = d.attachment;
      const start = int(r, 0, BLOB.length - a.size);
      const boundary = `mixed-${i.toString(36)}`;
      headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
      body = [
        `--${boundary}`,
        ...plain,
        '',
        text,
        `--${boundary}`,
        `Content-Type: ${a.type}; name="${a.name}"`,
        `Content-Disposition: attachment; filename="${a.name}"`,
        'Content-Transfer-Encoding: base64',
        '',
        base64Lines(BLOB.subarray(start, start + a.size)),
        `--${boundary}--`,
        '',
      ].join('\r\n');
    } else if (d.html) {
      const boundary = `alt-${i.toString(36)}`;
      headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
      const html = text
        .split('\r\n\r\n')
        .map((p) => `<p>${escapeHtml(p).replace(/\r\n/g, ' ')}</p>`)
        .join('\r\n');
      body = [
        `--${boundary}`,
        ...plain,
        '',
        text,
        `--${boundary}`,
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        `<!doctype html><html><body style="font-family:sans-serif">${html}</body></html>`,
        `--${boundary}--`,
        '',
      ].join('\r\n');
    } else {
      headers.push(...plain);
      body = text;
    }
    const raw = Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`);

    const names = [d.from, ...d.to, ...d.cc].map((m) => `${m.name} ${m.address}`).join(' ');
    const view: SearchView = {
      from: mailboxView(d.from),
      to: d.to.map(mailboxView).join('\n'),
      subject: fold(d.subject),
      tags: [...new Set([...d.xTags, ...d.plusTags])],
      attachments: d.attachment ? 1 : 0,
      headers: fold(
        [d.xTags.length ? `x-tags: ${d.xTags.join(', ')}` : '', d.campaign ? `x-campaign: ${d.campaign}` : '']
          .filter(Boolean)
          .join('\n'),
      ),
      words: fold(`${d.subject}\n${names}\n${d.attachment?.name ?? ''}\n${text}`),
    };
    return {
      raw,
      mailFrom: d.from.address,
      rcptTo: [...d.to, ...d.cc].map((m) => m.address),
      view,
    };
  }
}
