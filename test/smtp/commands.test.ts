// Unit tests of the SMTP command parsing helpers (src/smtp/commands.ts): the verb split, the
// MAIL FROM / RCPT TO paths and their ESMTP parameters, EHLO/HELO names, SASL PLAIN and base64,
// and the HTTP request line check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeBase64,
  decodePlain,
  heloName,
  isHttpRequest,
  mailParameters,
  type PathResult,
  parsePath,
  splitCommand,
} from '../../src/smtp/commands.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The address of a parse that must succeed. */
function address(rest: string, keyword: 'FROM' | 'TO' = 'FROM'): string {
  const r = parsePath(rest, keyword);
  assert.ok(r.ok, `${rest} should parse, got ${JSON.stringify(r)}`);
  return r.address;
}

/** The parameters of a parse that must succeed, as a plain object. */
function params(rest: string, keyword: 'FROM' | 'TO' = 'FROM'): Record<string, string | true> {
  const r = parsePath(rest, keyword);
  assert.ok(r.ok, `${rest} should parse, got ${JSON.stringify(r)}`);
  return Object.fromEntries(r.params);
}

function error(rest: string, keyword: 'FROM' | 'TO' = 'FROM'): string {
  const r: PathResult = parsePath(rest, keyword);
  assert.equal(r.ok, false, `${JSON.stringify(rest)} should be refused, got ${JSON.stringify(r)}`);
  return r.ok ? 'accepted' : r.error;
}

describe('splitCommand', () => {
  test('the verb is upper-cased and the rest keeps its case', () => {
    assert.deepEqual(splitCommand('mail FROM:<A@Example.test>'), {
      verb: 'MAIL',
      rest: 'FROM:<A@Example.test>',
    });
    assert.deepEqual(splitCommand('eHlO Client.Example'), { verb: 'EHLO', rest: 'Client.Example' });
  });

  test('a verb alone has an empty rest', () => {
    assert.deepEqual(splitCommand('noop'), { verb: 'NOOP', rest: '' });
    assert.deepEqual(splitCommand(''), { verb: '', rest: '' });
  });

  test('leading spaces of the rest are removed, trailing ones kept', () => {
    assert.deepEqual(splitCommand('RCPT    TO:<a@example.test>'), {
      verb: 'RCPT',
      rest: 'TO:<a@example.test>',
    });
    assert.deepEqual(splitCommand('DATA '), { verb: 'DATA', rest: '' });
    assert.deepEqual(splitCommand('VRFY  x '), { verb: 'VRFY', rest: 'x ' });
  });
});

describe('parsePath: addresses', () => {
  test('a plain address comes back without brackets, with no parameters', () => {
    const r = parsePath('FROM:<sender@example.test>', 'FROM');
    assert.deepEqual(r, { ok: true, address: 'sender@example.test', params: new Map() });
    assert.equal(address('TO:<rcpt@example.test>', 'TO'), 'rcpt@example.test');
  });

  test('the keyword is case-insensitive and spaces around the colon are allowed', () => {
    assert.equal(address('from:<a@example.test>'), 'a@example.test');
    assert.equal(address('FROM: <a@example.test>'), 'a@example.test');
    assert.equal(address('FROM :<a@example.test>'), 'a@example.test');
    assert.equal(address('To:<a@example.test>', 'TO'), 'a@example.test');
  });

  test('the wrong keyword or no colon is a syntax error', () => {
    assert.equal(error('TO:<a@example.test>', 'FROM'), 'syntax');
    assert.equal(error('FROM:<a@example.test>', 'TO'), 'syntax');
    assert.equal(error('FROM<a@example.test>'), 'syntax');
    assert.equal(error('FRM:<a@example.test>'), 'syntax');
    assert.equal(error(''), 'syntax');
  });

  test('the null path <> is the empty address, for FROM and (syntactically) TO', () => {
    const r = parsePath('FROM:<>', 'FROM');
    assert.deepEqual(r, { ok: true, address: '', params: new Map() });
    assert.equal(address('TO:<>', 'TO'), '');
    assert.deepEqual(params('FROM:<> BODY=8BITMIME'), { BODY: '8BITMIME' });
  });

  test('a source route is accepted and stripped', () => {
    assert.equal(address('FROM:<@relay.example.test:user@example.test>'), 'user@example.test');
    assert.equal(
      address('TO:<@one.example.test,@two.example.test:user@example.test>', 'TO'),
      'user@example.test',
    );
  });

  test('the domainless postmaster is a recipient only, in any case', () => {
    assert.equal(address('TO:<postmaster>', 'TO'), 'postmaster');
    assert.equal(address('TO:<PostMaster>', 'TO'), 'PostMaster');
    assert.equal(error('FROM:<postmaster>'), 'syntax');
    assert.equal(error('TO:<postmistress>', 'TO'), 'syntax');
  });

  test('missing angle brackets are a syntax error', () => {
    assert.equal(error('FROM:a@example.test'), 'syntax');
    assert.equal(error('FROM:<a@example.test'), 'syntax');
    assert.equal(error('FROM:a@example.test>'), 'syntax');
    assert.equal(error('FROM:'), 'syntax');
  });

  test('a < inside the path is a syntax error', () => {
    assert.equal(error('FROM:<a<b@example.test>'), 'syntax');
    assert.equal(error('FROM:<<a@example.test>>'), 'syntax');
  });

  test('anything right after > without a space is a syntax error', () => {
    assert.equal(error('FROM:<a@example.test>SIZE=10'), 'syntax');
    assert.equal(error('FROM:<a@example.test>>'), 'syntax');
    assert.equal(error('FROM:<a@example.test>x'), 'syntax');
  });

  test('a local part with a leading, trailing or doubled dot is refused unless quoted', () => {
    assert.equal(error('FROM:<.a@example.test>'), 'syntax');
    assert.equal(error('FROM:<a.@example.test>'), 'syntax');
    assert.equal(error('FROM:<a..b@example.test>'), 'syntax');
    assert.equal(address('FROM:<a.b.c@example.test>'), 'a.b.c@example.test');
    assert.equal(address('FROM:<"a..b"@example.test>'), '"a..b"@example.test');
  });

  test('no local part, no domain or no @ is refused', () => {
    assert.equal(error('FROM:<@example.test>'), 'syntax');
    assert.equal(error('FROM:<a@>'), 'syntax');
    assert.equal(error('FROM:<example.test>'), 'syntax');
  });

  test('bad domains are refused', () => {
    for (const domain of [
      '.example.test',
      'example.test.',
      'example..test',
      'exa_mple.test',
      'example-.test',
      'example.-test',
      'exa mple.test',
      'exa!mple.test',
    ]) {
      assert.equal(error(`FROM:<a@${domain}>`), 'syntax', domain);
    }
  });

  test('a domain label may not start or end with a hyphen at the ends of the domain either', () => {
    // RFC 5321 §4.1.2: sub-domain = Let-dig [Ldh-str], Ldh-str ends in Let-dig. The checks for
    // ".-" and "-." cover inner labels; the first and last label need the same rule.
    assert.equal(error('FROM:<a@-example.test>'), 'syntax');
    assert.equal(error('FROM:<a@example.test->'), 'syntax');
  });

  test('good domains pass unchanged', () => {
    assert.equal(address('FROM:<a@sub-domain.example.test>'), 'a@sub-domain.example.test');
    assert.equal(address('FROM:<a@localhost>'), 'a@localhost');
    assert.equal(address('FROM:<A@EXAMPLE.Test>'), 'A@EXAMPLE.Test');
  });

  test('IPv4 and IPv6 address literals: valid ones pass, invalid ones are refused', () => {
    assert.equal(address('FROM:<a@[192.0.2.1]>'), 'a@[192.0.2.1]');
    assert.equal(address('FROM:<a@[IPv6:2001:db8::1]>'), 'a@[IPv6:2001:db8::1]');
    assert.equal(address('FROM:<a@[ipv6:::1]>'), 'a@[ipv6:::1]');
    assert.equal(error('FROM:<a@[192.0.2.256]>'), 'syntax');
    assert.equal(error('FROM:<a@[192.0.2]>'), 'syntax');
    assert.equal(error('FROM:<a@[2001:db8::1]>'), 'syntax', 'IPv6 without its tag');
    assert.equal(error('FROM:<a@[IPv6:2001:db8::g]>'), 'syntax');
    assert.equal(error('FROM:<a@[IPv6:192.0.2.1]>'), 'syntax');
    assert.equal(error('FROM:<a@[example.test]>'), 'syntax');
  });

  test('a punycode A-label domain comes back in Unicode (U-label); the local part is untouched', () => {
    assert.equal(address('FROM:<user@xn--bcher-kva.example>'), 'user@bücher.example');
    assert.equal(address('TO:<Hans@XN--MNCHEN-3YA.de>', 'TO'), 'Hans@münchen.de');
    assert.equal(address('FROM:<jörg@bücher.example>'), 'jörg@bücher.example');
  });

  test('control and invisible characters in the address are refused', () => {
    assert.equal(error('FROM:<a\x01b@example.test>'), 'syntax');
    assert.equal(error('FROM:<ab@exam\x7fple.test>'), 'syntax');
    assert.equal(error('FROM:<a\u200bb@example.test>'), 'syntax');
    assert.equal(error('FROM:<ab@example.test\ufeff>'), 'syntax');
  });

  test('a path over 256 octets with its brackets is refused; 256 is fine', () => {
    const domain = '@example.test';
    const fits = `${'a'.repeat(254 - domain.length)}${domain}`;
    assert.equal(`<${fits}>`.length, 256);
    assert.equal(address(`FROM:<${fits}>`), fits);
    const over = `a${fits}`;
    assert.equal(error(`FROM:<${over}>`), 'syntax');
    assert.equal(error(`TO:<${'b'.repeat(400)}@example.test>`, 'TO'), 'syntax');
  });
});

describe('parsePath: parameters', () => {
  test('keys are upper-cased, values keep their case, a bare keyword is true', () => {
    assert.deepEqual(params('FROM:<a@example.test> size=100 body=8bitmime smtputf8'), {
      SIZE: '100',
      BODY: '8bitmime',
      SMTPUTF8: true,
    });
  });

  test('several spaces between parameters are fine', () => {
    assert.deepEqual(params('FROM:<a@example.test>   SIZE=1  BODY=7BIT'), { SIZE: '1', BODY: '7BIT' });
  });

  test('values are xtext-decoded: +2B is +, +3D is =', () => {
    assert.deepEqual(params('FROM:<a@example.test> AUTH=user+2Bx@example.test'), {
      AUTH: 'user+x@example.test',
    });
    assert.deepEqual(params('FROM:<a@example.test> ENVID=a+3Db+2B+2Bc'), { ENVID: 'a=b++c' });
    assert.deepEqual(params('TO:<a@example.test> ORCPT=rfc822;x+2By@example.test', 'TO'), {
      ORCPT: 'rfc822;x+y@example.test',
    });
  });

  test('a repeated key, in any case, is a duplicate', () => {
    assert.equal(error('FROM:<a@example.test> SIZE=1 SIZE=2'), 'duplicate');
    assert.equal(error('FROM:<a@example.test> SIZE=1 size=1'), 'duplicate');
    assert.equal(error('FROM:<a@example.test> SMTPUTF8 smtputf8'), 'duplicate');
  });

  test('an empty value is a bad parameter', () => {
    assert.equal(error('FROM:<a@example.test> SIZE='), 'parameter');
    assert.equal(error('FROM:<a@example.test> BODY= SIZE=1'), 'parameter');
  });

  test('control characters in a value, raw or xtext-encoded, are a bad parameter', () => {
    assert.equal(error('FROM:<a@example.test> ENVID=a\x01b'), 'parameter');
    assert.equal(error('FROM:<a@example.test> ENVID=a+00b'), 'parameter');
    assert.equal(error('FROM:<a@example.test> ENVID=a+0Db'), 'parameter');
    assert.equal(error('FROM:<a@example.test> ENVID=a+0Ab'), 'parameter');
  });

  test('a key that is not letters, digits and hyphens is a bad parameter', () => {
    assert.equal(error('FROM:<a@example.test> =x'), 'parameter');
    assert.equal(error('FROM:<a@example.test> -X=1'), 'parameter');
    assert.equal(error('FROM:<a@example.test> X_Y=1'), 'parameter');
    assert.deepEqual(params('FROM:<a@example.test> X-Y2=1'), { 'X-Y2': '1' });
  });
});

describe('heloName', () => {
  test('a name or address literal comes back trimmed, case kept', () => {
    assert.equal(heloName('Client.Example.test'), 'Client.Example.test');
    assert.equal(heloName('  client.example.test  '), 'client.example.test');
    assert.equal(heloName('[192.0.2.1]'), '[192.0.2.1]');
    assert.equal(heloName('[IPv6:2001:db8::1]'), '[IPv6:2001:db8::1]');
  });

  test('empty, several words, control characters and over-long names are refused', () => {
    assert.equal(heloName(''), null);
    assert.equal(heloName('   '), null);
    assert.equal(heloName('client example'), null);
    assert.equal(heloName('client\x00.example'), null);
    assert.equal(heloName('client\u200b.example'), null);
    assert.equal(heloName('a'.repeat(255)), 'a'.repeat(255));
    assert.equal(heloName('a'.repeat(256)), null);
  });
});

describe('decodePlain', () => {
  test('authzid NUL authcid NUL password: the authcid and password', () => {
    assert.deepEqual(decodePlain(b64('\0alice\0secret')), { username: 'alice', password: 'secret' });
    assert.deepEqual(decodePlain(b64('admin\0alice\0pass word:1')), {
      username: 'alice',
      password: 'pass word:1',
    });
    assert.deepEqual(decodePlain(b64('\0jörg\0pässwörd')), { username: 'jörg', password: 'pässwörd' });
    assert.deepEqual(decodePlain(b64('\0alice\0')), { username: 'alice', password: '' });
  });

  test('a missing username is refused', () => {
    assert.equal(decodePlain(b64('\0\0secret')), null);
    assert.equal(decodePlain(b64('alice\0\0secret')), null);
  });

  test('the wrong number of parts is refused', () => {
    assert.equal(decodePlain(b64('alice\0secret')), null);
    assert.equal(decodePlain(b64('alicesecret')), null);
    assert.equal(decodePlain(b64('\0alice\0sec\0ret')), null);
  });

  test('a response that is not base64 is refused', () => {
    assert.equal(decodePlain('not base64!'), null);
    assert.equal(decodePlain(''), null);
    assert.equal(decodePlain('AGFsaWNlAHNlY3JldA'), null, 'padding missing');
    assert.equal(decodePlain('*'), null);
  });
});

describe('decodeBase64', () => {
  test('strict base64 to UTF-8 text', () => {
    assert.equal(decodeBase64('aGVsbG8='), 'hello');
    assert.equal(decodeBase64('aGVsbA=='), 'hell');
    assert.equal(decodeBase64('aGVs'), 'hel');
    assert.equal(decodeBase64(b64('jörg@example.test')), 'jörg@example.test');
    assert.equal(decodeBase64('VXNlcm5hbWU6'), 'Username:');
  });

  test('surrounding white space is ignored', () => {
    assert.equal(decodeBase64('  aGVsbG8=  '), 'hello');
  });

  test('empty, bad characters, bad length and bad padding are refused', () => {
    assert.equal(decodeBase64(''), null);
    assert.equal(decodeBase64('   '), null);
    assert.equal(decodeBase64('aGVsbG8'), null);
    assert.equal(decodeBase64('aGV sbG8='), null);
    assert.equal(decodeBase64('aGVsbG8*'), null);
    assert.equal(decodeBase64('a==='), null);
    assert.equal(decodeBase64('===='), null);
    assert.equal(decodeBase64('aG=sbG8='), null);
    assert.equal(decodeBase64('aGVsbG8-'), null, 'base64url is not base64');
  });
});

describe('isHttpRequest', () => {
  test('request lines of every method, any case, HTTP/1.x and HTTP/2', () => {
    for (const line of [
      'GET / HTTP/1.1',
      'get /index.html HTTP/1.0',
      'POST /form?x=1 HTTP/1.1',
      'HEAD / HTTP/1.1',
      'PUT /x HTTP/1.1',
      'DELETE /x HTTP/1.1',
      'OPTIONS * HTTP/1.1',
      'TRACE / HTTP/1.1',
      'CONNECT mx.example.test:25 HTTP/1.1',
      'PATCH /x HTTP/1.1',
      'GET / HTTP/2',
    ]) {
      assert.equal(isHttpRequest(line), true, line);
    }
  });

  test('SMTP commands and near misses are not HTTP', () => {
    for (const line of [
      'EHLO client.example.test',
      'GET /',
      'GET / HTTP/1.1 extra',
      'FETCH / HTTP/1.1',
      'GET / HTTPS/1.1',
      'HELO GET / HTTP/1.1',
      ' GET / HTTP/1.1',
      'GET / http/x',
    ]) {
      assert.equal(isHttpRequest(line), false, line);
    }
  });
});

describe('mailParameters', () => {
  const params = (line: string) => {
    const r = parsePath(`FROM:<a@example.test>${line}`, 'FROM');
    assert.ok(r.ok);
    return r.params;
  };

  test('SIZE, BODY, SMTPUTF8 and AUTH are taken', () => {
    assert.deepEqual(mailParameters(params(' SIZE=100 BODY=8bitmime AUTH=<>'), 1000), {
      ok: true,
      smtpUtf8: false,
    });
    assert.deepEqual(mailParameters(params(' SMTPUTF8 BODY=7BIT'), 1000), { ok: true, smtpUtf8: true });
  });

  test('a declared SIZE over the limit is 552 5.3.4, a bad one 501', () => {
    const over = mailParameters(params(' SIZE=1001'), 1000);
    assert.deepEqual(over, { ok: false, code: 552, text: '5.3.4 Message exceeds the maximum message size' });
    assert.deepEqual(mailParameters(params(' SIZE=1000'), 1000), { ok: true, smtpUtf8: false });
    assert.equal((mailParameters(params(' SIZE=12k'), 1000) as { code: number }).code, 501);
  });

  test('BINARYMIME and SMTPUTF8 with a value are 501, parameters not offered 555', () => {
    assert.equal((mailParameters(params(' BODY=BINARYMIME'), 1000) as { code: number }).code, 501);
    assert.equal((mailParameters(params(' SMTPUTF8=yes'), 1000) as { code: number }).code, 501);
    assert.deepEqual(mailParameters(params(' RET=FULL'), 1000), {
      ok: false,
      code: 555,
      text: '5.5.4 Unsupported MAIL FROM parameter RET',
    });
  });
});
