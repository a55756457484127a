import assert from 'node:assert/strict';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAddressPolicy } from '../../src/net/address-policy.ts';
import {
  AddressBlockedError,
  type AddressResolver,
  checkLiteralHost,
  createSafeLookup,
  resolveAllowed,
} from '../../src/net/safe-lookup.ts';

/** A resolver answering from a table; each name's answers are handed out in turn, the last repeating. */
function scripted(table: Record<string, { a?: string[][]; aaaa?: string[][] }>) {
  const asked: string[] = [];
  const next = (answers: string[][] | undefined, host: string, type: string) => {
    asked.push(`${type} ${host}`);
    if (!answers || answers.length === 0) {
      return Promise.reject(Object.assign(new Error(`query ${type} ENODATA ${host}`), { code: 'ENODATA' }));
    }
    return Promise.resolve(answers.length > 1 ? answers.shift()! : answers[0]!);
  };
  const resolver: AddressResolver = {
    resolve4: (host) => next(table[host]?.a, host, 'A'),
    resolve6: (host) => next(table[host]?.aaaa, host, 'AAAA'),
  };
  return { resolver, asked };
}

function lookupOnce(
  lookup: ReturnType<typeof createSafeLookup>,
  host: string,
  options: LookupOptions,
): Promise<{ address: string | LookupAddress[]; family?: number }> {
  return new Promise((resolve, reject) => {
    lookup(host, options, (err, address, family) => (err ? reject(err) : resolve({ address, family })));
  });
}

describe('safe lookup', () => {
  const policy = createAddressPolicy({ allow: ['127.0.0.1/32'] });

  it('hands back the allowed addresses in the shape node:net asks for', async () => {
    const { resolver } = scripted({ 'hook.test': { a: [['127.0.0.1']], aaaa: [['2606:2800:220:1::1']] } });
    const lookup = createSafeLookup({ resolver, policy });
    assert.deepEqual(await lookupOnce(lookup, 'hook.test', { all: true }), {
      address: [
        { address: '127.0.0.1', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
      family: undefined,
    });
    assert.deepEqual(await lookupOnce(lookup, 'hook.test', { family: 4 }), {
      address: '127.0.0.1',
      family: 4,
    });
    assert.deepEqual(await lookupOnce(lookup, 'hook.test', { family: 'IPv6' }), {
      address: '2606:2800:220:1::1',
      family: 6,
    });
  });

  it('refuses a host whose every address is internal, with EADDRBLOCKED and the addresses named', async () => {
    const { resolver } = scripted({
      'evil.test': { a: [['10.0.0.1', '169.254.169.254']], aaaa: [['::ffff:127.0.0.2']] },
    });
    const lookup = createSafeLookup({ resolver, policy });
    const err = await lookupOnce(lookup, 'evil.test', { all: true }).then(
      () => assert.fail('lookup should have been refused'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AddressBlockedError);
    assert.equal(err.code, 'EADDRBLOCKED');
    assert.equal(err.hostname, 'evil.test');
    assert.deepEqual(
      err.refused.map((r) => r.address),
      ['10.0.0.1', '169.254.169.254', '::ffff:127.0.0.2'],
    );
    assert.match(err.message, /10\.0\.0\.1 is private-use/);
    assert.match(err.message, /169\.254\.169\.254 is link-local/);
    assert.match(err.message, /::ffff:127\.0\.0\.2 is loopback, embedded in IPv6/);
  });

  it('drops internal addresses from a mixed answer so only checked ones are connected to', async () => {
    const { resolver } = scripted({ 'mixed.test': { a: [['10.0.0.1', '127.0.0.1', '192.168.0.1']] } });
    const found = await resolveAllowed('mixed.test', 0, { resolver, policy });
    assert.deepEqual(found, [{ address: '127.0.0.1', family: 4 }]);
  });

  it('checks IP literals without asking DNS', async () => {
    const { resolver, asked } = scripted({});
    const lookup = createSafeLookup({ resolver, policy });
    assert.deepEqual(await lookupOnce(lookup, '127.0.0.1', {}), { address: '127.0.0.1', family: 4 });
    await assert.rejects(lookupOnce(lookup, '10.0.0.1', {}), { code: 'EADDRBLOCKED' });
    await assert.rejects(lookupOnce(lookup, '::ffff:169.254.169.254', { all: true }), {
      code: 'EADDRBLOCKED',
    });
    assert.deepEqual(asked, []);
    assert.throws(() => checkLiteralHost('[::1]', policy), {
      code: 'EADDRBLOCKED',
      message: /::1 is loopback/,
    });
    assert.throws(() => checkLiteralHost('0.0.0.0', policy), { code: 'EADDRBLOCKED' });
    checkLiteralHost('127.0.0.1', policy);
    checkLiteralHost('hook.test', policy);
  });

  it('passes DNS failures through with their codes', async () => {
    const lookup = createSafeLookup({ resolver: scripted({}).resolver, policy });
    await assert.rejects(lookupOnce(lookup, 'absent.test', { all: true }), { code: 'ENODATA' });
    const failing: AddressResolver = {
      resolve4: () => Promise.reject(Object.assign(new Error('queryA ESERVFAIL x'), { code: 'ESERVFAIL' })),
      resolve6: () => Promise.resolve([]),
    };
    await assert.rejects(lookupOnce(createSafeLookup({ resolver: failing, policy }), 'x', {}), {
      code: 'ESERVFAIL',
    });
    const empty: AddressResolver = {
      resolve4: () => Promise.resolve([]),
      resolve6: () => Promise.resolve([]),
    };
    await assert.rejects(lookupOnce(createSafeLookup({ resolver: empty, policy }), 'y', {}), {
      code: 'ENOTFOUND',
    });
  });

  it('lets an allow-listed host name reach its internal address', async () => {
    const { resolver } = scripted({ 'hooks.corp': { a: [['10.9.9.9']] } });
    const open = createAddressPolicy({ allow: ['hooks.corp'] });
    assert.deepEqual(await resolveAllowed('hooks.corp', 4, { resolver, policy: open }), [
      { address: '10.9.9.9', family: 4 },
    ]);
  });

  describe('as the lookup of a real socket', () => {
    let server: net.Server;
    let port = 0;
    let accepted = 0;

    before(async () => {
      server = net.createServer((socket) => {
        accepted += 1;
        socket.end('hello\n');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as net.AddressInfo).port;
    });
    after(() => server.close());

    it('connects to the checked address and asks DNS once, whatever DNS says next', async () => {
      // Rebinding: the first answer passes the check, the second would point inside.
      const { resolver, asked } = scripted({ 'rebind.test': { a: [['127.0.0.1'], ['10.0.0.1']] } });
      const socket = net.connect({
        host: 'rebind.test',
        port,
        lookup: createSafeLookup({ resolver, policy }),
      });
      const [data] = await once(socket, 'data');
      assert.equal(String(data), 'hello\n');
      assert.equal(socket.remoteAddress, '127.0.0.1');
      socket.destroy();
      assert.deepEqual(
        asked.filter((q) => q.startsWith('A ')),
        ['A rebind.test'],
      );
    });

    it('never opens a socket to a refused address', async () => {
      const before = accepted;
      // No allow list here: the listening 127.0.0.1 is as internal as any other loopback address.
      const strict = createAddressPolicy();
      const { resolver } = scripted({ 'evil.test': { a: [['127.0.0.1']], aaaa: [['::ffff:127.0.0.1']] } });
      const lookup = createSafeLookup({ resolver, policy: strict });
      const socket = net.connect({ host: 'evil.test', port, lookup });
      const [err] = await once(socket, 'error');
      assert.equal((err as NodeJS.ErrnoException).code, 'EADDRBLOCKED');
      assert.equal(accepted, before);
    });
  });
});
