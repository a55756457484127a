import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { type ReplyText, stripReply } from '../../src/mime/reply-text.ts';

const FIXTURES = new URL('../fixtures/replies/', import.meta.url);

interface Expected extends ReplyText {
  subject: string | null;
}

/** Reads "@@ quoted: true", "@@ subject: ...", "@@ reply" and "@@ signature" sections. */
function readExpected(name: string): Expected {
  const expected: Expected = { reply: '', signature: null, quoted: false, subject: null };
  let section: 'reply' | 'signature' | null = null;
  const body: Record<'reply' | 'signature', string[]> = { reply: [], signature: [] };
  for (const line of fs.readFileSync(new URL(name, FIXTURES), 'utf8').split('\n')) {
    if (line.startsWith('@@ quoted: ')) expected.quoted = line.endsWith('true');
    else if (line.startsWith('@@ subject: ')) expected.subject = line.slice('@@ subject: '.length);
    else if (line === '@@ reply') section = 'reply';
    else if (line === '@@ signature') {
      section = 'signature';
      expected.signature = '';
    } else if (section !== null) body[section].push(line);
  }
  expected.reply = body.reply.join('\n').trimEnd();
  if (expected.signature !== null) expected.signature = body.signature.join('\n').trimEnd();
  return expected;
}

const fixtures = fs
  .readdirSync(FIXTURES)
  .filter((name) => !name.endsWith('.expected.txt'))
  .sort();

describe('stripReply fixtures', () => {
  it('has a fixture set with an expected file beside each', () => {
    assert.ok(fixtures.length >= 20);
    for (const name of fixtures) {
      const base = name.replace(/\.(txt|html)$/, '');
      assert.ok(fs.existsSync(new URL(`${base}.expected.txt`, FIXTURES)), name);
    }
  });

  for (const name of fixtures) {
    it(name, () => {
      const source = fs.readFileSync(new URL(name, FIXTURES), 'utf8');
      const { subject, ...expected } = readExpected(name.replace(/\.(txt|html)$/, '.expected.txt'));
      const input = name.endsWith('.html') ? { html: source, subject } : { text: source, subject };
      assert.deepEqual(stripReply(input), expected);
    });
  }
});

const lines = (...parts: string[]): string => parts.join('\n');

describe('stripReply: quotes', () => {
  it('cuts ">" blocks, nested and indented, and reports them', () => {
    const result = stripReply({ text: lines('Fine by me.', '', '> first', '>> older', '  > indented') });
    assert.deepEqual(result, { reply: 'Fine by me.', signature: null, quoted: true });
  });

  it('gives an empty reply for a message that is nothing but a quote', () => {
    assert.deepEqual(stripReply({ text: '> only\n> quoted\n' }), {
      reply: '',
      signature: null,
      quoted: true,
    });
  });

  it('returns the whole text, trimmed, when nothing is quoted or signed', () => {
    const text = '\n  Plain message.\n\nSecond paragraph.  \n\n';
    assert.deepEqual(stripReply({ text }), {
      reply: 'Plain message.\n\nSecond paragraph.',
      signature: null,
      quoted: false,
    });
    assert.deepEqual(stripReply({}), { reply: '', signature: null, quoted: false });
    assert.deepEqual(stripReply({ text: null, html: null }), { reply: '', signature: null, quoted: false });
  });

  it('reads CRLF, LF and bare CR alike and drops trailing whitespace', () => {
    const parts = [
      'Yes, Friday.  ',
      '',
      'On Mon, 3 Mar 2025 at 10:15, Ann <ann@example.com> wrote:',
      '> Friday?',
    ];
    const expected = { reply: 'Yes, Friday.', signature: null, quoted: true };
    assert.deepEqual(stripReply({ text: parts.join('\r\n') }), expected);
    assert.deepEqual(stripReply({ text: parts.join('\n') }), expected);
    assert.deepEqual(stripReply({ text: parts.join('\r') }), expected);
  });

  it('keeps text written below the quote (bottom-posting)', () => {
    const text = lines('On 3/3/25 10:15, Ann Example wrote:', '> Is the report done?', '', 'Yes, attached.');
    assert.deepEqual(stripReply({ text }), { reply: 'Yes, attached.', signature: null, quoted: true });
  });

  it('keeps inline answers between quoted lines, in order', () => {
    const text = lines('> Q1?', 'A1.', '', '> Q2?', '> more of Q2', '', 'A2.', '> Q3?', 'A3.');
    assert.equal(stripReply({ text }).reply, 'A1.\n\nA2.\nA3.');
  });
});

describe('stripReply: attribution lines', () => {
  const attributions: Array<[string, string]> = [
    ['English', 'On Mon, Mar 3, 2025 at 10:15 AM Ann Example <ann@example.com> wrote:'],
    ['Apple Mail', 'On Mar 3, 2025, at 10:15, Ann Example <ann@example.com> wrote:'],
    ['German', 'Am Mo., 3. März 2025 um 10:15 Uhr schrieb Ann Example <ann@example.com>:'],
    ['French', 'Le lun. 3 mars 2025 à 10:15, Ann Example <ann@example.com> a écrit\u00a0:'],
    ['Spanish', 'El lun, 3 mar 2025 a las 10:15, Ann Example (<ann@example.com>) escribió:'],
    ['Dutch', 'Op ma 3 mrt 2025 om 10:15 schreef Ann Example <ann@example.com>:'],
    ['Italian', 'Il giorno lun 3 mar 2025 alle ore 10:15 Ann Example <ann@example.com> ha scritto:'],
    ['Portuguese', 'Em seg., 3 de mar. de 2025 às 10:15, Ann Example <ann@example.com> escreveu:'],
    ['Swedish', 'Den mån 3 mars 2025 kl 10:15 skrev Ann Example <ann@example.com>:'],
    ['Danish', 'Den man. 3. mar. 2025 kl. 10.15 skrev Ann Example <ann@example.com>:'],
    ['Polish', 'W dniu 3.03.2025 o 10:15, Ann Example <ann@example.com> napisał(a):'],
    ['Japanese (message)', '2025/03/03 10:15、Ann Example <ann@example.com>のメッセージ:'],
    ['Japanese (wrote)', '2025年3月3日 10:15 に Ann Example <ann@example.com> が書きました:'],
    ['Russian', '03.03.2025 10:15, Ann Example пишет:'],
  ];
  for (const [language, attribution] of attributions) {
    it(`${language}: cuts the attribution and the quote under it`, () => {
      const text = lines('New text.', '', attribution, '', '> old text', '> more');
      assert.deepEqual(stripReply({ text }), { reply: 'New text.', signature: null, quoted: true });
    });
    it(`${language}: a dated attribution cuts an unprefixed quote below it`, () => {
      const text = lines('New text.', '', attribution, '', 'old text, not prefixed', 'more');
      assert.deepEqual(stripReply({ text }), { reply: 'New text.', signature: null, quoted: true });
    });
  }

  it('joins an attribution Gmail wrapped over two lines, at either point', () => {
    for (const [first, second] of [
      ['On Mon, Mar 3, 2025 at 10:15 AM Ann Example <', 'ann@example.com> wrote:'],
      ['On Mon, Mar 3, 2025 at 10:15 AM Ann Example', '<ann@example.com> wrote:'],
      ['пн, 3 мар. 2025 г. в 10:15, Ann Example <', 'ann@example.com>:'],
    ]) {
      const text = lines('Reply.', '', first ?? '', second ?? '', '', '> quote');
      assert.deepEqual(stripReply({ text }), { reply: 'Reply.', signature: null, quoted: true }, first);
    }
  });

  it('does not swallow the reply line just above an attribution', () => {
    const text = lines('See you at 5', 'On Mon, Mar 3, 2025 at 10:15 AM Ann <ann@example.com> wrote:', '> q');
    assert.equal(stripReply({ text }).reply, 'See you at 5');
    const short = lines('Thanks', 'Ann Example <ann@example.com> wrote:', '> q');
    assert.equal(stripReply({ text: short }).reply, 'Thanks');
  });

  it('keeps a line ending in "wrote:" that introduces no quote', () => {
    for (const first of ['Here is what the manual wrote:', 'On Monday, 3 March 2025 the supplier wrote:']) {
      const text = lines('Hi,', first, 'We cannot deliver.');
      assert.deepEqual(stripReply({ text }), { reply: text, signature: null, quoted: false }, first);
    }
  });
});

describe('stripReply: Outlook header blocks', () => {
  const blocks: Array<[string, string[]]> = [
    [
      'English',
      ['From: Ann <ann@example.com>', 'Sent: Monday, March 3, 2025 10:15 AM', 'To: Bo', 'Subject: Hi'],
    ],
    [
      'German',
      ['Von: Ann <ann@example.com>', 'Gesendet: Montag, 3. März 2025 10:15', 'An: Bo', 'Betreff: Hi'],
    ],
    [
      'French',
      [
        'De\u00a0: Ann <ann@example.com>',
        'Envoyé\u00a0: lundi 3 mars 2025',
        'À\u00a0: Bo',
        'Objet\u00a0: Hi',
      ],
    ],
    ['bold', ['*From:* Ann <ann@example.com>', '*Sent:* Monday', '*To:* Bo', '*Subject:* Hi']],
  ];
  for (const [language, block] of blocks) {
    it(`${language}: cuts from the header block to the end`, () => {
      const text = lines('Done.', '', ...block, '', 'Original body.');
      assert.deepEqual(stripReply({ text }), { reply: 'Done.', signature: null, quoted: true });
    });
  }

  it('cuts at "-----Original Message-----" and its translations', () => {
    for (const marker of [
      '-----Original Message-----',
      '-----Ursprüngliche Nachricht-----',
      "-----Message d'origine-----",
    ]) {
      const text = lines('Done.', '', marker, 'Old body.');
      assert.deepEqual(stripReply({ text }), { reply: 'Done.', signature: null, quoted: true }, marker);
    }
  });

  it('drops the "____" separator above the header block, and keeps one with no header after it', () => {
    const text = lines('Done.', '', '_'.repeat(32), 'From: Ann', 'Sent: today', 'To: Bo', '', 'Old.');
    assert.equal(stripReply({ text }).reply, 'Done.');
    const lone = lines('Table:', '_'.repeat(32), 'a | b');
    assert.deepEqual(stripReply({ text: lone }), { reply: lone, signature: null, quoted: false });
  });

  it('does not cut a lone "From:" line in prose', () => {
    const text = lines('From: the desk of Ann', 'We are moving offices next week.', 'Subject to change.');
    assert.deepEqual(stripReply({ text }), { reply: text, signature: null, quoted: false });
  });
});

describe('stripReply: forwarded messages are kept', () => {
  it('keeps a Gmail or Thunderbird forward with its header and content, quoted=false', () => {
    for (const marker of ['---------- Forwarded message ---------', '-------- Forwarded Message --------']) {
      const text = lines('FYI.', '', marker, 'From: Ann <ann@example.com>', 'Subject: Plan', '', '> kept');
      assert.deepEqual(stripReply({ text }), {
        reply: lines('FYI.', '', marker, 'From: Ann <ann@example.com>', 'Subject: Plan', '', '> kept'),
        signature: null,
        quoted: false,
      });
    }
  });

  it('an Outlook header block is a forward when the subject says so, a quote otherwise', () => {
    const text = lines('See below.', '', 'From: Ann', 'Sent: Monday', 'To: Bo', 'Subject: Plan', '', 'Body.');
    const forwarded = lines(
      'See below.',
      '',
      'From: Ann',
      'Sent: Monday',
      'To: Bo',
      'Subject: Plan',
      '',
      'Body.',
    );
    for (const subject of ['Fwd: Plan', 'FW: Plan', 'WG: Plan', 'TR: Plan']) {
      assert.deepEqual(stripReply({ text, subject }), { reply: forwarded, signature: null, quoted: false });
    }
    assert.deepEqual(stripReply({ text, subject: 'RE: Fwd: Plan' }), {
      reply: 'See below.',
      signature: null,
      quoted: true,
    });
  });

  it('a forward inside a quote stays part of the quote', () => {
    const text = lines(
      'Thanks!',
      '',
      'On 3/3/25 10:15, Ann wrote:',
      '> ---------- Forwarded message ---------',
      '> x',
    );
    assert.deepEqual(stripReply({ text }), { reply: 'Thanks!', signature: null, quoted: true });
  });
});

describe('stripReply: signatures', () => {
  it('cuts at the RFC 3676 "-- " delimiter, or a bare "--" before a short block', () => {
    assert.deepEqual(stripReply({ text: 'Hi.\n\n-- \nAnn\nExample Org\n' }), {
      reply: 'Hi.',
      signature: 'Ann\nExample Org',
      quoted: false,
    });
    assert.deepEqual(stripReply({ text: 'Hi.\n--\nAnn\n' }), {
      reply: 'Hi.',
      signature: 'Ann',
      quoted: false,
    });
  });

  it('keeps lines that merely start with "--", and a bare "--" before a long block', () => {
    const text = lines('Run it as:', '--verbose --dry-run', '---', 'done');
    assert.deepEqual(stripReply({ text }), { reply: text, signature: null, quoted: false });
    const long = lines('Intro', '--', ...Array.from({ length: 12 }, (_, k) => `row ${k}`));
    assert.equal(stripReply({ text: long }).signature, null);
  });

  it('cuts common mobile signatures at the end of the reply', () => {
    for (const line of [
      'Sent from my iPhone',
      'Sent from Outlook for Android',
      'Get Outlook for iOS<https://aka.ms/o0ukef>',
      'Von meinem iPhone gesendet',
      'Envoyé de mon iPhone',
      'Enviado desde mi iPhone',
    ]) {
      assert.deepEqual(stripReply({ text: `Ok.\n\n${line}\n` }), {
        reply: 'Ok.',
        signature: line,
        quoted: false,
      });
    }
  });

  it('keeps a mobile-signature-like line far from the end', () => {
    const text = lines('Sent from my iPhone is what my old phone added.', 'a', 'b', 'c', 'd');
    assert.equal(stripReply({ text }).signature, null);
  });

  it('finds the signature after interleaved answers and above a quote', () => {
    const text = lines('> Q?', 'A.', '', '-- ', 'Bo', '', 'On 3/3/25 10:15, Ann wrote:', '> old');
    assert.deepEqual(stripReply({ text }), { reply: 'A.', signature: 'Bo', quoted: true });
  });
});

describe('stripReply: HTML only', () => {
  it('prefers the text part, and falls back to HTML when the text is blank', () => {
    const html = '<p>From HTML</p><blockquote type="cite">old</blockquote>';
    assert.equal(stripReply({ text: 'From text', html }).reply, 'From text');
    assert.deepEqual(stripReply({ text: ' \r\n', html }), {
      reply: 'From HTML',
      signature: null,
      quoted: true,
    });
  });

  it('removes a quote element and keeps text after it (bottom-posting in HTML)', () => {
    const html =
      '<div class="moz-cite-prefix">On 3/3/25 10:15, Ann wrote:</div>' +
      '<blockquote type=cite><div>inner <div>nested</div></div><blockquote type="cite">deeper</blockquote></blockquote>' +
      '<p>Below the quote.</p>';
    assert.deepEqual(stripReply({ html }), { reply: 'Below the quote.', signature: null, quoted: true });
  });

  it('keeps an Apple Mail forward and removes a Yahoo quote', () => {
    const forward =
      '<div>See below.</div><div>Begin forwarded message:</div><br>' +
      '<blockquote type="cite"><div><b>From: </b>Ann &lt;ann@example.com&gt;</div><div>Body.</div></blockquote>';
    assert.deepEqual(stripReply({ html: forward }), {
      reply: 'See below.\n\nBegin forwarded message:\n\nFrom: Ann <ann@example.com>\n\nBody.',
      signature: null,
      quoted: false,
    });
    const yahoo =
      '<div>Yes.</div><div class="yahoo_quoted"><div>On Monday, Ann wrote:</div><div>old</div></div>';
    assert.deepEqual(stripReply({ html: yahoo }), { reply: 'Yes.', signature: null, quoted: true });
  });

  it('cuts from Outlook divRplyFwdMsg or a bordered div before "Von:", not other bordered divs', () => {
    const web = '<div>Ok.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Ann</div><div>old</div>';
    assert.deepEqual(stripReply({ html: web }), { reply: 'Ok.', signature: null, quoted: true });
    const desktop =
      '<p>Ok.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt"><p><b>Von:</b> Ann<br>' +
      '<b>Gesendet:</b> Montag<br><b>An:</b> Bo</p></div><p>alt</p>';
    assert.deepEqual(stripReply({ html: desktop }), { reply: 'Ok.', signature: null, quoted: true });
    const box = '<p>Ok.</p><div style="border-top:solid 1px #ccc"><p>Totals: 12</p></div>';
    assert.deepEqual(stripReply({ html: box }), {
      reply: 'Ok.\n\nTotals: 12',
      signature: null,
      quoted: false,
    });
  });

  it('treats a div#divRplyFwdMsg as a forward when the subject says so', () => {
    const html = '<div>See below.</div><div id="divRplyFwdMsg"><b>From:</b> Ann</div><div>Body.</div>';
    assert.deepEqual(stripReply({ html, subject: 'FW: Plan' }), {
      reply: 'See below.\n\nFrom: Ann\n\nBody.',
      signature: null,
      quoted: false,
    });
  });

  it('cannot be fooled by the private markers the HTML pass uses', () => {
    const html = '<p>Keep \uE000[</p><p>\uE000[</p><p>this</p><p>\uE000!</p><p>too</p>';
    assert.deepEqual(stripReply({ html }), {
      reply: 'Keep [\n\n[\n\nthis\n\n!\n\ntoo',
      signature: null,
      quoted: false,
    });
  });

  it('an unclosed quote element quotes the rest', () => {
    assert.deepEqual(stripReply({ html: '<p>Hi</p><div class="gmail_quote"><p>old' }), {
      reply: 'Hi',
      signature: null,
      quoted: true,
    });
  });
});

describe('stripReply: linear time on hostile input (timeouts are only hang guards)', () => {
  it('a 2 MB single line that looks like an attribution, separator or delimiter', { timeout: 60_000 }, () => {
    const big = 'a '.repeat(1_000_000);
    assert.equal(stripReply({ text: `On 3 Mar 2025 ${big} wrote:\n> q` }).reply.length > 1_900_000, true);
    assert.equal(stripReply({ text: '-'.repeat(2_000_000) }).reply.length, 2_000_000);
    assert.equal(stripReply({ text: `${'_'.repeat(2_000_000)}\nFrom: a\nSent: b\nTo: c` }).quoted, true);
    assert.equal(stripReply({ text: `x\n${' '.repeat(2_000_000)}>` }).reply, 'x');
    assert.equal(stripReply({ text: `ok\n-- \n${'Sent from my iPhone '.repeat(100_000)}` }).reply, 'ok');
  });

  it('several MB of ">" lines and of short attribution-like lines', { timeout: 60_000 }, () => {
    const quotes = '> quoted line of an old message\n'.repeat(200_000);
    assert.deepEqual(stripReply({ text: `New.\n${quotes}` }), {
      reply: 'New.',
      signature: null,
      quoted: true,
    });
    const nested = `${'>'.repeat(3_000_000)}\n`;
    assert.equal(stripReply({ text: `New.\n${nested}` }).reply, 'New.');
    const colons = 'On 12:30 x\nOn 12:30 y\nz:\n'.repeat(100_000);
    assert.ok(stripReply({ text: colons }).reply.length > 0);
    const dashes = '--\n'.repeat(500_000);
    const signed = stripReply({ text: `body\n${dashes}` });
    assert.equal(signed.signature, '--\n'.repeat(10).trimEnd());
    assert.equal(signed.reply.split('\n').length, 500_000 - 10);
  });

  it('megabytes of nested or repeated quote elements and bordered divs', { timeout: 60_000 }, () => {
    const nested = `<p>Hi</p>${'<div class="gmail_quote">'.repeat(200_000)}x`;
    assert.equal(stripReply({ html: nested }).reply, 'Hi');
    const siblings = `<p>Hi</p>${'<blockquote type="cite"></blockquote>'.repeat(200_000)}`;
    assert.equal(stripReply({ html: siblings }).reply, 'Hi');
    const borders = `<p>Hi</p>${'<div style="border-top:solid 1px">cell</div>'.repeat(100_000)}`;
    assert.equal(stripReply({ html: borders }).quoted, false);
    assert.equal(stripReply({ html: `<p>Hi</p><${'a'.repeat(3_000_000)}` }).reply, 'Hi');
  });
});
