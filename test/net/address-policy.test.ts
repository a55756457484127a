import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockedRange, createAddressPolicy, isInternalAddress } from '../../src/net/address-policy.ts';

// Each internal address with the name of the range that should catch it.
const INTERNAL: readonly [string, RegExp][] = [
  ['0.0.0.0', /unspecified/],
  ['0.1.2.3', /this network/],
  ['10.0.0.1', /private-use/],
  ['172.16.0.1', /private-use/],
  ['172.31.255.255', /private-use/],
  ['192.168.1.1', /private-use/],
  ['100.64.0.1', /CGNAT/],
  ['100.127.255.254', /CGNAT/],
  ['127.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['169.254.169.254', /link-local/],
  ['192.0.0.8', /IETF protocol/],
  ['192.0.2.1', /documentation/],
  ['198.51.100.7', /documentation/],
  ['203.0.113.9', /documentation/],
  ['192.88.99.1', /6to4 relay/],
  ['198.18.0.1', /benchmarking/],
  ['198.19.255.1', /benchmarking/],
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['240.0.0.1', /reserved/],
  ['255.255.255.255', /broadcast/],
  ['::', /unspecified/],
  ['::1', /loopback/],
  ['fe80::1', /link-local/],
  ['fe80::1%eth0', /link-local/],
  ['fd00::1', /unique-local/],
  ['fc00::1', /unique-local/],
  ['fec0::1', /site-local/],
  ['ff02::1', /multicast/],
  ['2001:db8::1', /documentation/],
  ['3fff::1', /documentation/],
  ['100::1', /discard/],
  ['2001:2::1', /benchmarking/],
  ['64:ff9b:1::a00:1', /local-use/],
  ['4000::1', /reserved/],
  // IPv6 forms that reach an internal IPv4 host.
  ['::ffff:127.0.0.1', /loopback, embedded/],
  ['::ffff:7f00:1', /loopback, embedded/],
  ['::ffff:a9fe:a9fe', /link-local, embedded/],
  ['::ffff:0:10.0.0.1', /private-use, embedded/],
  ['::10.0.0.1', /private-use, embedded/],
  ['::127.0.0.1', /loopback, embedded/],
  ['64:ff9b::10.0.0.1', /private-use, embedded/],
  ['64:ff9b::a9fe:a9fe', /link-local, embedded/],
  ['2002:7f00:1::1', /loopback, embedded/],
  ['2002:c0a8:101::', /private-use, embedded/],
  // Teredo: client 192.168.1.1 stored inverted (RFC 4380 §4), public server 65.54.227.120.
  ['2001:0:4136:e378:8000:63bf:3f57:fefe', /private-use, embedded/],
  // Teredo whose server field is loopback.
  ['2001:0:7f00:1::1', /loopback, embedded/],
];

const PUBLIC = [
  '93.184.216.34',
  '8.8.8.8',
  '1.1.1.1',
  '100.63.255.255',
  '100.128.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.0.1.1',
  '198.17.255.255',
  '223.255.255.255',
  '2606:2800:220:1::1',
  '2a00:1450:4001::1',
  '::ffff:5db8:d822',
  '::ffff:93.184.216.34',
  '64:ff9b::8.8.8.8',
  '2002:5db8:d822::1',
  // Teredo: client 93.184.216.34 inverted, server 65.54.227.120.
  '2001:0:4136:e378:8000:63bf:a247:27dd',
];

describe('address policy', () => {
  it('finds the special-purpose range of every internal address, embedded IPv4 included', () => {
    for (const [ip, name] of INTERNAL) {
      assert.equal(isInternalAddress(ip), true, ip);
      const range = blockedRange(ip);
      assert.ok(range, ip);
      assert.match(range.name, name, ip);
      assert.match(range.source, /^RFC \d+/, ip);
    }
  });

  it('leaves public unicast addresses alone, including IPv6 forms carrying a public IPv4', () => {
    for (const ip of PUBLIC) {
      assert.equal(isInternalAddress(ip), false, ip);
      assert.equal(blockedRange(ip), null, ip);
    }
  });

  it('agrees with the MX transport on the addresses its tests name', () => {
    for (const ip of ['127.0.0.1', '10.0.0.1', '172.20.1.1', '192.168.1.1', '169.254.1.1', '::1']) {
      assert.equal(isInternalAddress(ip), true, ip);
    }
    for (const ip of ['fe80::1', 'fd00::1', '::ffff:127.0.0.1'])
      assert.equal(isInternalAddress(ip), true, ip);
  });

  it('fails closed on text that is no IP address', () => {
    for (const text of ['', 'localhost', '127.1', '0x7f000001', '2130706433', '10.0.0.256', '::g']) {
      assert.equal(isInternalAddress(text), true, text);
      assert.equal(createAddressPolicy({ allow: ['0.0.0.0/0', '::/0'] }).allows(text), false, text);
    }
  });

  it('refuses internal addresses by default with a reason naming the address and its range', () => {
    const policy = createAddressPolicy();
    const verdict = policy.check('169.254.169.254', 'metadata.example');
    assert.equal(verdict.allowed, false);
    assert.match(verdict.reason, /169\.254\.169\.254 is link-local \(169\.254\.0\.0\/16, RFC 3927\)/);
    assert.equal(policy.allows('93.184.216.34'), true);
    assert.equal(policy.allows('::ffff:127.0.0.1'), false);
  });

  it('lets the allow list open CIDRs, single addresses and exact host names', () => {
    const policy = createAddressPolicy({ allow: ['10.1.0.0/16', '127.0.0.1', 'fd12::/16', 'Hooks.Corp.'] });
    assert.equal(policy.allows('10.1.2.3'), true);
    assert.equal(policy.allows('10.2.0.1'), false);
    assert.equal(policy.allows('127.0.0.1'), true);
    assert.equal(policy.allows('127.0.0.2'), false);
    // Entries match the form written: the IPv4-mapped twin stays refused.
    assert.equal(policy.allows('::ffff:127.0.0.1'), false);
    assert.equal(policy.allows('fd12:3::1'), true);
    assert.equal(policy.allows('fd13::1'), false);
    assert.equal(policy.allows('192.168.7.7', 'hooks.corp'), true);
    assert.equal(policy.allows('192.168.7.7', 'other.corp'), false);
    assert.equal(policy.allows('192.168.7.7'), false);
    assert.match(policy.check('10.1.2.3').reason, /allow list/);
  });

  it('rejects allow-list entries that are neither a CIDR nor a host name', () => {
    for (const entry of [
      '10.0.0.0/33',
      '10.0.0.0/',
      '::1/129',
      '10.0.0.0/8/8',
      'fe80::1%eth0/64',
      'a_b.example',
    ]) {
      assert.throws(() => createAddressPolicy({ allow: [entry] }), /not an IP address or CIDR/, entry);
    }
  });
});
