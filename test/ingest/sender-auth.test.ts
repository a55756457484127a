// SPF, DKIM, DMARC and ARC results for inbound mail, all answered by a fake DNS zone. Messages are
// signed and sealed here with mailauth's signer and keys made at run time.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { dkimSign, sealMessage } from 'mailauth';
import type { SenderAuth, SenderAuthInput } from '../../src/ingest/sender-auth.ts';
import {
  checkSender,
  DEFAULT_MAX_DKIM_SIGNATURES,
  UNTRUSTED_RESULTS_FIELD,
  withAuthenticationResults,
} from '../../src/ingest/sender-auth.ts';
import { isShared } from '../../src/runtime/thread-bytes.ts';
import type { FakeDns, FakeZone } from '../helpers/fake-dns.ts';
import { createFakeDns, dnsFailure, txt } from '../helpers/fake-dns.ts';

const HOST = 'mx.mailroom.test';
const CLIENT_IP = '192.0.2.10';
const OTHER_IP = '198.51.100.7';

interface Key {
  privateKey: string;
  /** The DKIM key record value (RFC 6376 §3.6.1; RFC 8463 §4 for Ed25519). */
  record: string;
}

function rsaKey(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${p}`,
  };
}

function ed25519Key(): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const p = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=ed25519; p=${p}`,
  };
}

function message(opts: { from?: string; subject?: string; body?: string; extra?: string } = {}): Buffer {
  const lines = [
    ...(opts.extra ? [opts.extra] : []),
    `From: Ann <${opts.from ?? 'ann@example.com'}>`,
    'To: bob@mailroom.test',
    `Subject: ${opts.subject ?? 'Quarterly numbers'}`,
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
    'Message-ID: <q1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'The numbers are attached.',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}

async function sign(raw: Buffer, signers: { domain: string; selector: string; key: Key }[]): Promise<Buffer> {
  const signatureData = signers.map((s) => ({
    signingDomain: s.domain,
    selector: s.selector,
    privateKey: s.key.privateKey,
  }));
  const result = await dkimSign(raw, { ...signatureData[0]!, signatureData });
  assert.deepEqual(result.errors, []);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

function check(dns: FakeDns, raw: Uint8Array, over: Partial<SenderAuthInput> = {}): Promise<SenderAuth> {
  const input = {
    raw,
    clientIp: CLIENT_IP,
    helo: 'mail.example.com',
    mailFrom: 'ann@example.com',
    hostname: HOST,
  };
  return checkSender({ ...input, ...over }, { resolver: dns.resolve });
}

/** The resinfos of a header value, split on the semicolons outside comments and quotes. */
function resinfos(header: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const c of header.replace(/\r\n /g, ' ')) {
    if (c === '"' && depth === 0) quoted = !quoted;
    else if (c === '(' && !quoted) depth++;
    else if (c === ')' && !quoted) depth--;
    if (c === ';' && depth === 0 && !quoted) {
      parts.push(current.trim());
      current = '';
    } else current += c;
  }
  parts.push(current.trim());
  return parts;
}

function spfZone(record: string): FakeZone {
  return { 'example.com': { TXT: txt(record) } };
}

describe('SPF', () => {
  const cases: [string, string, string][] = [
    ['pass', `v=spf1 ip4:${CLIENT_IP} -all`, CLIENT_IP],
    ['fail', `v=spf1 ip4:${CLIENT_IP} -all`, OTHER_IP],
    ['softfail', `v=spf1 ip4:${CLIENT_IP} ~all`, OTHER_IP],
    ['neutral', `v=spf1 ip4:${CLIENT_IP} ?all`, OTHER_IP],
    ['permerror', 'v=spf1 ip4:192.0.2.300 -all', CLIENT_IP],
  ];
  for (const [expected, record, ip] of cases) {
    it(`${expected}: "${record}" for ${ip}`, async () => {
      const auth = await check(createFakeDns(spfZone(record)), message(), { clientIp: ip });
      assert.deepEqual(auth.spf, { result: expected, domain: 'example.com' });
      assert.match(auth.header, new RegExp(`spf=${expected} `));
    });
  }

  it('fail carries the domain owner explanation (exp=)', async () => {
    const dns = createFakeDns({
      'example.com': { TXT: txt(`v=spf1 ip4:${CLIENT_IP} exp=why.example.com -all`) },
      'why.example.com': { TXT: txt('%{i} may not send for %{d}') },
    });
    const auth = await check(dns, message(), { clientIp: OTHER_IP });
    assert.equal(auth.spf.result, 'fail');
    assert.equal(auth.spf.explanation, `${OTHER_IP} may not send for example.com`);
  });

  it('none when the domain publishes no SPF record', async () => {
    const dns = createFakeDns({ 'example.com': { TXT: txt('unrelated=1') } });
    const auth = await check(dns, message());
    assert.deepEqual(auth.spf, { result: 'none', domain: 'example.com' });
  });

  it('permerror after more than 10 DNS-querying terms (RFC 7208 §4.6.4)', async () => {
    const zone: Record<string, { TXT: string[][] }> = {
      'example.com': { TXT: txt('v=spf1 include:l1.example.com -all') },
    };
    for (let i = 1; i <= 11; i++)
      zone[`l${i}.example.com`] = { TXT: txt(`v=spf1 include:l${i + 1}.example.com -all`) };
    zone['l12.example.com'] = { TXT: txt(`v=spf1 ip4:${CLIENT_IP} -all`) };
    const auth = await check(createFakeDns(zone), message());
    assert.equal(auth.spf.result, 'permerror');
  });

  it('temperror when the SPF lookup fails with SERVFAIL', async () => {
    const dns = createFakeDns({ 'example.com': { TXT: dnsFailure('ESERVFAIL') } });
    const auth = await check(dns, message());
    assert.deepEqual(auth.spf, { result: 'temperror', domain: 'example.com' });
    assert.match(auth.header, /spf=temperror/);
  });

  it('the null sender is checked against the HELO identity (RFC 7208 §2.4)', async () => {
    const dns = createFakeDns({
      'example.com': { TXT: txt('v=spf1 -all') },
      'mta7.example.net': { TXT: txt(`v=spf1 ip4:${CLIENT_IP} -all`) },
    });
    const auth = await check(dns, message(), { mailFrom: '', helo: 'mta7.example.net' });
    assert.deepEqual(auth.spf, { result: 'pass', domain: 'mta7.example.net' });
    assert.match(auth.header, /spf=pass .*smtp\.helo=mta7\.example\.net/);
    assert.ok(!dns.queries.some((q) => q.name === 'example.com' && q.rrtype === 'TXT'));
  });
});

describe('DKIM', () => {
  let rsa: Key;
  let ed: Key;
  before(() => {
    rsa = rsaKey();
    ed = ed25519Key();
  });

  function zone(extra: FakeZone = {}): FakeDns {
    return createFakeDns({
      'example.com': { TXT: txt(`v=spf1 ip4:${CLIENT_IP} -all`) },
      'rsa1._domainkey.example.com': { TXT: txt(rsa.record) },
      'ed1._domainkey.example.com': { TXT: txt(ed.record) },
      '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject') },
      ...extra,
    });
  }
  const both = () => [
    { domain: 'example.com', selector: 'rsa1', key: rsa },
    { domain: 'example.com', selector: 'ed1', key: ed },
  ];

  it('rsa-sha256 and ed25519-sha256 signatures of the author domain pass and align', async () => {
    const auth = await check(zone(), await sign(message(), both()));
    assert.deepEqual(
      auth.dkim.map((d) => [d.result, d.domain, d.selector, d.algorithm, d.aligned]),
      [
        ['pass', 'example.com', 'rsa1', 'rsa-sha256', true],
        ['pass', 'example.com', 'ed1', 'ed25519-sha256', true],
      ],
    );
  });

  it('a body altered after signing fails, with the reason', async () => {
    const signed = await sign(message(), both());
    const forged = Buffer.from(signed.toString().replace('are attached', 'are NOT attached'));
    const auth = await check(zone(), forged);
    assert.deepEqual(
      auth.dkim.map((d) => [d.result, d.reason]),
      [
        ['fail', 'body hash did not verify'],
        ['fail', 'body hash did not verify'],
      ],
    );
  });

  it('a signed header altered after signing fails, with the reason', async () => {
    const signed = await sign(message(), both());
    const forged = Buffer.from(
      signed.toString().replace('Subject: Quarterly numbers', 'Subject: Pay this invoice'),
    );
    const auth = await check(zone(), forged);
    assert.deepEqual(
      auth.dkim.map((d) => [d.result, d.reason]),
      [
        ['fail', 'bad signature'],
        ['fail', 'bad signature'],
      ],
    );
  });

  it('a signature whose key record is missing is neutral ("no key"), as mailauth reports it', async () => {
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'gone', key: rsa }]);
    const auth = await check(zone(), signed);
    assert.deepEqual(
      auth.dkim.map((d) => [d.result, d.reason]),
      [['neutral', 'no key']],
    );
  });

  it('a third-party signature passes but is not aligned', async () => {
    const signed = await sign(message(), [{ domain: 'esp.example.net', selector: 's1', key: rsa }]);
    const auth = await check(zone({ 's1._domainkey.esp.example.net': { TXT: txt(rsa.record) } }), signed);
    assert.deepEqual(
      auth.dkim.map((d) => [d.result, d.domain, d.aligned]),
      [['pass', 'esp.example.net', false]],
    );
  });

  it(`fetches at most ${DEFAULT_MAX_DKIM_SIGNATURES} keys for a message with 51 signatures, the author's first`, async () => {
    const junk = Array.from({ length: 50 }, (_, i) => ({
      domain: `junk${i}.example.org`,
      selector: 's',
      key: rsa,
    }));
    // The author's signature is the oldest, at the bottom, below the 50 others.
    const signed = await sign(
      await sign(message(), [{ domain: 'example.com', selector: 'rsa1', key: rsa }]),
      junk,
    );
    const dns = zone();
    const auth = await check(dns, signed);
    const keyLookups = dns.queries.filter((q) => q.name.includes('._domainkey.'));
    assert.equal(keyLookups.length, DEFAULT_MAX_DKIM_SIGNATURES);
    assert.equal(auth.dkim.length, 51);
    assert.deepEqual(
      auth.dkim.filter((d) => d.result === 'pass').map((d) => [d.domain, d.aligned]),
      [['example.com', true]],
    );
    const skipped = auth.dkim.filter((d) => d.result === 'policy');
    assert.equal(skipped.length, 51 - DEFAULT_MAX_DKIM_SIGNATURES);
    assert.match(skipped[0]!.reason ?? '', /more than 5 signatures/);
    assert.equal(auth.dmarc.result, 'pass');
  });
});

describe('DMARC', () => {
  let rsa: Key;
  before(() => {
    rsa = rsaKey();
  });

  function zone(dmarc: string | null): FakeDns {
    return createFakeDns({
      'example.com': { TXT: txt(`v=spf1 ip4:${CLIENT_IP} -all`) },
      'esp.example.net': { TXT: txt(`v=spf1 ip4:${OTHER_IP} -all`) },
      'k1._domainkey.example.com': { TXT: txt(rsa.record) },
      'k1._domainkey.mail.example.com': { TXT: txt(rsa.record) },
      ...(dmarc ? { '_dmarc.example.com': { TXT: txt(dmarc) } } : {}),
    });
  }
  // Sent through an ESP: the envelope sender is the ESP's, so SPF passes for a domain that does not align.
  const viaEsp = { clientIp: OTHER_IP, mailFrom: 'bounce-77@esp.example.net' };

  it('passes through SPF alignment alone', async () => {
    const auth = await check(zone('v=DMARC1; p=reject'), message());
    assert.deepEqual(auth.dmarc, {
      result: 'pass',
      domain: 'example.com',
      policy: 'reject',
      alignment: { spf: true, dkim: false },
    });
  });

  it('passes through DKIM alignment alone', async () => {
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'k1', key: rsa }]);
    const auth = await check(zone('v=DMARC1; p=reject'), signed, viaEsp);
    assert.equal(auth.spf.result, 'pass');
    assert.deepEqual(auth.dmarc.alignment, { spf: false, dkim: true });
    assert.equal(auth.dmarc.result, 'pass');
  });

  it('fails without an aligned pass, and shows the reject policy', async () => {
    const auth = await check(zone('v=DMARC1; p=reject'), message(), viaEsp);
    assert.deepEqual(auth.dmarc, {
      result: 'fail',
      domain: 'example.com',
      policy: 'reject',
      alignment: { spf: false, dkim: false },
    });
    assert.match(auth.header, /dmarc=fail .*policy\.dmarc=reject/);
  });

  it('is none when the author domain publishes no record', async () => {
    const auth = await check(zone(null), message());
    assert.equal(auth.dmarc.result, 'none');
    assert.equal(auth.dmarc.policy, null);
  });

  it('a subdomain signer aligns under relaxed alignment but not under adkim=s', async () => {
    const signed = await sign(message(), [{ domain: 'mail.example.com', selector: 'k1', key: rsa }]);
    const relaxed = await check(zone('v=DMARC1; p=quarantine; adkim=r'), signed, viaEsp);
    assert.equal(relaxed.dmarc.result, 'pass');
    assert.deepEqual(
      relaxed.dkim.map((d) => [d.result, d.aligned]),
      [['pass', true]],
    );
    const strict = await check(zone('v=DMARC1; p=quarantine; adkim=s'), signed, viaEsp);
    assert.deepEqual(
      [strict.dmarc.result, strict.dmarc.policy, strict.dmarc.alignment],
      ['fail', 'quarantine', { spf: false, dkim: false }],
    );
    assert.deepEqual(
      strict.dkim.map((d) => [d.result, d.aligned]),
      [['pass', false]],
    );
  });
});

describe('ARC', () => {
  let rsa: Key;
  let arcKey: Key;
  before(() => {
    rsa = rsaKey();
    arcKey = rsaKey();
  });

  // A mailing list got the signed message, added a footer (which breaks DKIM) and sealed it.
  async function throughList(): Promise<Buffer> {
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'k1', key: rsa }]);
    const withFooter = Buffer.concat([signed, Buffer.from('--\r\nlist footer\r\n')]);
    const seal = await sealMessage(withFooter, {
      signingDomain: 'list.example.net',
      selector: 'arc1',
      privateKey: arcKey.privateKey,
      authResults: 'list.example.net; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com',
    });
    assert.ok(seal.length > 0, 'the list could not seal');
    return Buffer.concat([seal, withFooter]);
  }

  function zone(arcRecord: readonly unknown[] | ReturnType<typeof dnsFailure> = txt(arcKey.record)): FakeDns {
    return createFakeDns({
      'list.example.net': { TXT: txt(`v=spf1 ip4:${OTHER_IP} -all`) },
      'k1._domainkey.example.com': { TXT: txt(rsa.record) },
      'arc1._domainkey.list.example.net': { TXT: arcRecord },
      '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject') },
    });
  }
  const fromList = {
    clientIp: OTHER_IP,
    mailFrom: 'list-bounces@list.example.net',
    helo: 'lists.example.net',
  };

  it('a chain sealed by an intermediary passes with one instance', async () => {
    const auth = await check(zone(), await throughList(), fromList);
    assert.equal(auth.arc.result, 'pass');
    assert.equal(auth.arc.instances, 1);
    // What ARC is for: DKIM broke on the way and DMARC failed, but the chain vouches for the original.
    assert.equal(auth.dkim[0]?.result, 'fail');
    assert.equal(auth.dmarc.result, 'fail');
  });

  it('a body changed after sealing breaks the chain', async () => {
    const sealed = await throughList();
    const changed = Buffer.from(sealed.toString().replace('list footer', 'list footer, and a link'));
    const auth = await check(zone(), changed, fromList);
    assert.equal(auth.arc.result, 'fail');
    assert.equal(auth.arc.instances, 1);
    assert.match(auth.arc.reason ?? '', /i=1/);
  });

  it('is temperror, not fail, when the sealer key lookup fails temporarily', async () => {
    const auth = await check(zone(dnsFailure('ESERVFAIL')), await throughList(), fromList);
    assert.equal(auth.arc.result, 'temperror');
    assert.match(auth.header, /arc=temperror/);
  });

  it('is none for a message without ARC fields', async () => {
    const auth = await check(zone(), message(), fromList);
    assert.deepEqual(auth.arc, { result: 'none', instances: 0 });
  });
});

describe('Authentication-Results', () => {
  let rsa: Key;
  before(() => {
    rsa = rsaKey();
  });
  const zone = () =>
    createFakeDns({
      'example.com': { TXT: txt(`v=spf1 ip4:${CLIENT_IP} -all`) },
      'k1._domainkey.example.com': { TXT: txt(rsa.record) },
      '_dmarc.example.com': { TXT: txt('v=DMARC1; p=reject') },
    });

  it('starts with the authserv-id and has spf, dkim, dmarc and arc with their properties', async () => {
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'k1', key: rsa }]);
    const auth = await check(zone(), signed);
    const [id, ...rest] = resinfos(auth.header);
    assert.equal(id, HOST);
    assert.equal(auth.authservId, HOST);
    const byMethod = new Map(rest.map((r) => [r.slice(0, r.indexOf('=')), r]));
    assert.deepEqual([...byMethod.keys()].sort(), ['arc', 'dkim', 'dmarc', 'spf']);
    assert.match(byMethod.get('spf')!, /^spf=pass .*smtp\.mailfrom=example\.com/);
    assert.match(
      byMethod.get('dkim')!,
      /^dkim=pass .*header\.d=example\.com .*header\.s=k1 header\.a=rsa-sha256/,
    );
    assert.match(byMethod.get('dmarc')!, /^dmarc=pass .*policy\.dmarc=reject header\.from=example\.com/);
    assert.match(byMethod.get('arc')!, /^arc=none/);
  });

  it('renames incoming results that claim our authserv-id and puts ours first', async () => {
    const forgedFields = [
      `Authentication-Results: ${HOST}; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com`,
      `authentication-results: (trust me) "MX.Mailroom.Test." ;\r\n dmarc=pass header.from=example.com`,
      'Authentication-Results: mx.elsewhere.example; spf=fail smtp.mailfrom=example.com',
    ].join('\r\n');
    const raw = message({ extra: forgedFields, subject: 'Résumé', from: 'ann@example.com' });
    const auth = await check(zone(), raw, { clientIp: OTHER_IP });
    assert.equal(auth.spf.result, 'fail');
    const stored = Buffer.from(withAuthenticationResults(raw, auth));
    const text = stored.toString('utf8');
    assert.ok(text.startsWith(`Authentication-Results: ${auth.header}\r\n`));
    const fields = text.slice(0, text.indexOf('\r\n\r\n')).split(/\r\n(?![ \t])/);
    const results = fields.filter((f) => /^authentication-results:/i.test(f));
    assert.deepEqual(
      results.map((f) => resinfos(f.slice(f.indexOf(':') + 1))[0]),
      [HOST, 'mx.elsewhere.example'],
    );
    assert.equal(fields.filter((f) => f.startsWith(`${UNTRUSTED_RESULTS_FIELD}:`)).length, 2);
    assert.ok(text.includes('Subject: Résumé\r\n'));
    assert.ok(stored.subarray(stored.length - 40).equals(raw.subarray(raw.length - 40)));
  });

  it('keeps a message that uses bare LF line breaks in LF', () => {
    const raw = Buffer.from(`Authentication-Results: ${HOST}; spf=pass\nFrom: a@example.com\n\nhi\n`);
    const auth = { authservId: HOST, header: `${HOST};\r\n spf=fail` } as SenderAuth;
    const stored = Buffer.from(withAuthenticationResults(raw, auth)).toString();
    assert.equal(
      stored,
      `Authentication-Results: ${HOST};\n spf=fail\n${UNTRUSTED_RESULTS_FIELD}: ${HOST}; spf=pass\nFrom: a@example.com\n\nhi\n`,
    );
  });

  it('keeps a large message in one shared copy with our results on top', () => {
    const body = 'x'.repeat(76).concat('\r\n').repeat(400); // 31 KB
    const raw = Buffer.from(`From: a@example.com\r\nSubject: big\r\n\r\n${body}`);
    const auth = { authservId: HOST, header: `${HOST}; spf=pass` } as SenderAuth;
    const stored = withAuthenticationResults(raw, auth);
    assert.equal(isShared(stored), true);
    assert.equal(Buffer.from(stored).toString(), `Authentication-Results: ${HOST}; spf=pass\r\n${raw}`);
    assert.equal(
      isShared(withAuthenticationResults(Buffer.from('From: a@example.com\r\n\r\nhi\r\n'), auth)),
      false,
    );
  });

  it('refuses a hostname that cannot be an authserv-id', async () => {
    await assert.rejects(check(zone(), message(), { hostname: 'mx; spf=pass' }), TypeError);
  });
});

describe('deadline', () => {
  it('a resolver that never answers gives temperror results', { timeout: 10_000 }, async () => {
    const rsa = rsaKey();
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'k1', key: rsa }]);
    const never = () => new Promise<unknown[]>(() => {});
    const input = { raw: signed, clientIp: CLIENT_IP, helo: 'mail.example.com', mailFrom: 'ann@example.com' };
    const auth = await checkSender({ ...input, hostname: HOST }, { resolver: never, timeoutMs: 150 });
    assert.equal(auth.spf.result, 'temperror');
    assert.deepEqual(
      auth.dkim.map((d) => [d.result, d.domain]),
      [['temperror', 'example.com']],
    );
    assert.equal(auth.dmarc.result, 'temperror');
    assert.match(auth.header, /spf=temperror/);
  });

  it('a lookup that never answers keeps the results reached before the deadline', {
    timeout: 10_000,
  }, async () => {
    const rsa = rsaKey();
    const signed = await sign(message(), [{ domain: 'example.com', selector: 'k1', key: rsa }]);
    const dns = createFakeDns({
      'example.com': { TXT: txt(`v=spf1 ip4:${CLIENT_IP} -all`) },
      'k1._domainkey.example.com': { TXT: txt(rsa.record) },
    });
    // Only the DMARC policy lookups, which mailauth makes last, hang.
    const resolver = (name: string, rrtype: string) =>
      name.startsWith('_dmarc.') ? new Promise<unknown[]>(() => {}) : dns.resolve(name, rrtype);
    const input = { raw: signed, clientIp: CLIENT_IP, helo: 'mail.example.com', mailFrom: 'ann@example.com' };
    const auth = await checkSender({ ...input, hostname: HOST }, { resolver, timeoutMs: 150 });
    assert.equal(auth.spf.result, 'pass');
    assert.equal(auth.dkim[0]?.result, 'pass');
    assert.equal(auth.dmarc.result, 'temperror');
    assert.match(auth.header, /dmarc=temperror/);
  });

  it('a resolver that throws something other than an Error gives temperror', async () => {
    const broken = (): Promise<unknown[]> => Promise.reject('resolver exploded');
    const input = {
      raw: message(),
      clientIp: CLIENT_IP,
      helo: 'mail.example.com',
      mailFrom: 'ann@example.com',
    };
    const auth = await checkSender({ ...input, hostname: HOST }, { resolver: broken });
    assert.equal(auth.spf.result, 'temperror');
    assert.equal(auth.dmarc.result, 'temperror');
  });
});

describe('fake DNS zone', () => {
  it('tells a missing name (ENOTFOUND) from a name without that type (ENODATA) and counts lookups', async () => {
    const dns = createFakeDns({ 's1._domainkey.Example.COM.': { TXT: txt('v=DKIM1; p=') } });
    assert.deepEqual(await dns.resolve('s1._domainkey.example.com', 'TXT'), [['v=DKIM1; p=']]);
    await assert.rejects(dns.resolve('s1._domainkey.example.com', 'A'), { code: 'ENODATA' });
    await assert.rejects(dns.resolve('_domainkey.example.com', 'TXT'), { code: 'ENODATA' });
    await assert.rejects(dns.resolve('nothing.example.com', 'TXT'), { code: 'ENOTFOUND' });
    assert.equal(dns.lookups(), 4);
    assert.deepEqual(
      txt('x'.repeat(300))[0]!.map((s) => s.length),
      [255, 45],
    );
  });
});
