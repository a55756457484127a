// DKIM signing, checked by an independent verifier: dkimpy (Debian package python3-dkim), with its
// DNS lookup answered by the test. A missing verifier fails these tests: they are never skipped.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DKIM_USAGE, runDkimCommand } from '../../src/cli/dkim.ts';
import {
  type DkimAlgorithm,
  type DkimKey,
  dnsRecord,
  dnsZoneLine,
  generateKey,
  keyForSender,
  signMessage,
} from '../../src/outbound/dkim.ts';
import { tempDir } from '../helpers/backends.ts';
import { verify } from '../helpers/dkim-verifier.ts';

const NOW = new Date('2024-05-06T07:08:09Z');
const ALGORITHMS: DkimAlgorithm[] = ['rsa-sha256', 'ed25519-sha256'];

function keyPair(algorithm: DkimAlgorithm, domain = 'shop.example', selector = 'mr2024') {
  const { privateKeyPem, publicKeyBase64 } = generateKey(algorithm);
  const key: DkimKey = { domain, selector, algorithm, privateKeyPem };
  return { key, record: dnsRecord({ domain, selector, algorithm, publicKeyBase64 }), publicKeyBase64 };
}

const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function assertCrlfOnly(b: Uint8Array) {
  assert.doesNotMatch(text(b), /\r(?!\n)|(?<!\r)\n/, 'bare CR or LF in the signed message');
}

/** The tags of the DKIM-Signature at the top of a signed message. */
function signatureTags(signed: Uint8Array): Map<string, string> {
  const m = /^DKIM-Signature:((?:.*\r\n[ \t])*.*)\r\n/.exec(text(signed));
  assert.ok(m, 'the message does not start with a DKIM-Signature field');
  const tags = m[1]!.replace(/\s+/g, '').split(';').filter(Boolean);
  return new Map(tags.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
}

/** The quoted character-strings of a zone-file TXT line. */
const zoneStrings = (line: string) => [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);

const PLAIN = crlf(
  'From: Shop <orders@shop.example>\nTo: ann@one.example\nSubject: Your order\n' +
    'Date: Mon, 06 May 2024 07:08:09 +0000\nMessage-ID: <o1@shop.example>\nMIME-Version: 1.0\n' +
    'Content-Type: text/plain; charset=utf-8\n\nThanks for your order.\n',
);

// A folded To with many addresses, a folded RFC 2047 encoded-word Subject, trailing empty lines,
// and bare LF line endings, which the signer must turn into CRLF.
const AWKWARD = Buffer.from(
  'From: "Zoë" <zoe@shop.example>\n' +
    `To: ${Array.from({ length: 12 }, (_, i) => `customer-number-${i}@one.example`).join(',\n  ')}\n` +
    'Subject: =?UTF-8?B?w4RwZmVsIHVuZCBCaXJuZW4g4oCUIGplZGVuIFRhZyBmcmlzY2g=?=\n' +
    ' =?UTF-8?Q?_=E2=9C=93_gr=C3=BC=C3=9Fe?=\n' +
    'Date: Mon, 06 May 2024 07:08:09 +0000\nList-Unsubscribe: <https://shop.example/u/1>\n' +
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click\nMIME-Version: 1.0\n' +
    'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n' +
    'Grüße  aus dem Laden   \n\nzweiter Absatz\n\n\n\n',
  'utf8',
);

describe('DKIM signing, verified by dkimpy', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: a plain message verifies`, async () => {
      const { key, record } = keyPair(algorithm);
      const signed = await signMessage(PLAIN, key, { now: NOW });
      const result = verify(signed, record);
      assert.ok(result.ok, result.log);
      assert.deepEqual(result.queried, ['mr2024._domainkey.shop.example.']);
      assert.ok(
        signed.subarray(signed.length - PLAIN.length).equals(PLAIN),
        'the message must follow unchanged',
      );
      const tags = signatureTags(signed);
      assert.equal(tags.get('a'), algorithm);
      assert.equal(tags.get('c'), 'relaxed/relaxed');
      assert.equal(tags.get('d'), 'shop.example');
      assert.equal(tags.get('s'), 'mr2024');
      assert.equal(tags.get('t'), String(NOW.getTime() / 1000));
      const signedFields = tags.get('h')!.toLowerCase().split(':');
      for (const f of ['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type']) {
        assert.ok(signedFields.includes(f), `${f} is not signed: ${tags.get('h')}`);
      }
      assertCrlfOnly(signed);
    });

    it(`${algorithm}: folded headers, an encoded-word Subject, trailing empty lines, bare LFs`, async () => {
      const { key, record } = keyPair(algorithm);
      const signed = await signMessage(AWKWARD, key, { now: NOW });
      assertCrlfOnly(signed);
      assert.match(text(signed), /\r\n {2}customer-number-11@one\.example\r\n/);
      assert.match(text(signed), /\r\n\r\nzweiter Absatz\r\n\r\n\r\n\r\n$/);
      const result = verify(signed, record);
      assert.ok(result.ok, result.log);
      const signedFields = signatureTags(signed).get('h')!.toLowerCase().split(':');
      for (const f of ['list-unsubscribe', 'list-unsubscribe-post', 'content-transfer-encoding']) {
        assert.ok(signedFields.includes(f), `${f} is not signed`);
      }
    });

    it(`${algorithm}: a changed body or Subject fails; refolding whitespace does not (relaxed)`, async () => {
      const { key, record } = keyPair(algorithm);
      const signed = text(await signMessage(PLAIN, key, { now: NOW }));
      assert.ok(verify(Buffer.from(signed, 'latin1'), record).ok, 'the untouched message must verify');
      const variants = {
        body: signed.replace('Thanks for your order.', 'Thanks for your 0rder.'),
        subject: signed.replace('Subject: Your order', 'Subject: Your refund'),
        'added body line': `${signed}P.S. click here\r\n`,
      };
      for (const [what, tampered] of Object.entries(variants)) {
        assert.notEqual(tampered, signed);
        const result = verify(Buffer.from(tampered, 'latin1'), record);
        assert.equal(result.ok, false, `tampered ${what} still verified`);
      }
      const refolded = signed.replace('Subject: Your order', 'Subject:\r\n   Your  order ');
      assert.ok(
        verify(Buffer.from(refolded, 'latin1'), record).ok,
        'relaxed canonicalization must ignore refolding',
      );
    });
  }

  it('a signature does not verify against another key or at another selector', async () => {
    const { key, record } = keyPair('ed25519-sha256');
    const signed = await signMessage(PLAIN, key, { now: NOW });
    assert.equal(verify(signed, keyPair('ed25519-sha256').record).ok, false);
    assert.equal(verify(signed, { ...record, name: 'other._domainkey.shop.example' }).ok, false);
    assert.ok(verify(signed, record).ok);
  });

  it('always signs From, even when the caller leaves it out; refuses a message without From', async () => {
    const { key, record } = keyPair('rsa-sha256');
    const signed = await signMessage(PLAIN, key, { now: NOW, headerFields: ['Subject'] });
    assert.deepEqual(signatureTags(signed).get('h')!.toLowerCase().split(':').sort(), ['from', 'subject']);
    assert.ok(verify(signed, record).ok);
    await assert.rejects(signMessage(crlf('To: a@b.example\nSubject: x\n\nbody\n'), key), /From/);
    await assert.rejects(signMessage(PLAIN, key, { headerFields: ['Sub:ject'] }), /header field name/);
  });

  it('refuses a key of the other algorithm', async () => {
    const { key } = keyPair('rsa-sha256');
    await assert.rejects(signMessage(PLAIN, { ...key, algorithm: 'ed25519-sha256' }), /cannot sign/);
  });
});

describe('DKIM keys and DNS records', () => {
  it('generateKey: RSA 2048 SubjectPublicKeyInfo, raw 32-byte Ed25519 (RFC 8463 §4.2)', () => {
    const rsa = generateKey('rsa-sha256');
    const spki = createPublicKey({
      key: Buffer.from(rsa.publicKeyBase64, 'base64'),
      format: 'der',
      type: 'spki',
    });
    assert.equal(spki.asymmetricKeyType, 'rsa');
    assert.equal(spki.asymmetricKeyDetails?.modulusLength, 2048);
    assert.match(rsa.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const ed = generateKey('ed25519-sha256');
    assert.equal(Buffer.from(ed.publicKeyBase64, 'base64').length, 32);
    const derived = createPublicKey(ed.privateKeyPem).export({ format: 'jwk' }).x!;
    assert.equal(Buffer.from(derived, 'base64url').toString('base64'), ed.publicKeyBase64);
  });

  it('dnsRecord and dnsZoneLine: 255-octet strings that join back to the value', () => {
    for (const algorithm of ALGORITHMS) {
      const { publicKeyBase64 } = generateKey(algorithm);
      const pub = { selector: 'mr2024', domain: 'shop.example', algorithm, publicKeyBase64 };
      const { name, value } = dnsRecord(pub);
      assert.equal(name, 'mr2024._domainkey.shop.example');
      const k = algorithm === 'rsa-sha256' ? 'rsa' : 'ed25519';
      assert.equal(value, `v=DKIM1; k=${k}; p=${publicKeyBase64}`);
      const line = dnsZoneLine(pub);
      assert.ok(line.startsWith('mr2024._domainkey.shop.example. 3600 IN TXT ( "'), line);
      assert.doesNotMatch(line, /\n/);
      const strings = zoneStrings(line);
      for (const s of strings) assert.ok(Buffer.byteLength(s) <= 255, `${Buffer.byteLength(s)} octets`);
      assert.equal(strings.join(''), value);
      if (algorithm === 'rsa-sha256') assert.ok(strings.length >= 2, 'an RSA 2048 record needs two strings');
    }
  });

  it('keyForSender: the From domain, else the closest parent, else none', () => {
    const keys = (['shop.example', 'mail.shop.example', 'Other.Example'] as const).map(
      (domain): DkimKey => ({ domain, selector: 's', algorithm: 'ed25519-sha256', privateKeyPem: '' }),
    );
    const pick = (from: string) => keyForSender(keys, from)?.domain ?? null;
    assert.equal(pick('a@shop.example'), 'shop.example');
    assert.equal(pick('Ann <a@MAIL.Shop.Example>'), 'mail.shop.example');
    assert.equal(pick('a@eu.mail.shop.example'), 'mail.shop.example');
    assert.equal(pick('a@news.shop.example'), 'shop.example');
    assert.equal(pick('a@other.example'), 'Other.Example');
    assert.equal(pick('a@notshop.example'), null);
    assert.equal(pick('a@example'), null);
    assert.equal(pick('no-domain'), null);
    assert.equal(keyForSender([], 'a@shop.example'), null);
  });
});

describe('mailroom dkim keygen', () => {
  const dir = tempDir('mailroom-dkim-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDkimCommand(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('writes the key with mode 0600 and prints a record that verifies its signatures', async () => {
    const file = path.join(dir, 'ed.pem');
    const args = 'keygen --domain Shop.Example --selector mr2024 --algorithm ed25519-sha256'.split(' ');
    const r = await run([...args, '--out', file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(r.out, /PRIVATE KEY/);
    const pem = fs.readFileSync(file, 'utf8');
    const line = r.out.split('\n').find((l) => l.startsWith('mr2024._domainkey.shop.example. '));
    assert.ok(line, r.out);
    const key: DkimKey = { ...keyPair('ed25519-sha256').key, privateKeyPem: pem };
    const record = { name: 'mr2024._domainkey.shop.example', value: zoneStrings(line).join('') };
    const result = verify(await signMessage(PLAIN, key, { now: NOW }), record);
    assert.ok(result.ok, result.log);

    const again = await run([...args, '--out', file]);
    assert.equal(again.code, 1);
    assert.match(again.err, /refusing to overwrite/);
    assert.equal(fs.readFileSync(file, 'utf8'), pem);
  });

  it('prints an RSA key and its record without --out', async () => {
    const r = await run(['keygen', '--domain', 'shop.example', '--selector', 's1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /-----BEGIN PRIVATE KEY-----/);
    assert.match(r.out, /name: {2}s1\._domainkey\.shop\.example\n/);
    assert.match(r.out, /value: v=DKIM1; k=rsa; p=/);
  });

  it('refuses bad input with exit code 2 and says why', async () => {
    const cases: [string[], RegExp][] = [
      [['keygen', '--domain', 'shop_example.com', '--selector', 's1'], /--domain "shop_example.com"/],
      [['keygen', '--domain=-shop.example', '--selector', 's1'], /is not a domain name/],
      [['keygen', '--domain', 'shop.example', '--selector', 's1;x'], /is not a selector/],
      [['keygen', '--domain', 'shop.example', '--selector', 'a-'], /is not a selector/],
      [['keygen', '--domain', 'shop.example'], /--selector is required/],
      [['keygen', '--domain', 'shop.example', '--selector', 's', '--algorithm', 'rsa-sha1'], /--algorithm/],
      [['keygen', '--domain', 'shop.example', '--selector', 's', '--bogus'], /bogus/],
      [['rotate'], /unknown command "rotate"/],
      [[], /which command/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, message);
      assert.ok(r.err.includes(DKIM_USAGE));
      assert.equal(r.out, '', 'nothing (no key) on stdout');
    }
  });
});
