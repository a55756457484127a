// The MX transport with DNS answered by the test and a scripted SMTP server on loopback.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isInternalAddress } from '../../src/net/address-policy.ts';
import type { DeliveryJob } from '../../src/outbound/transport.ts';
import { type MxResolver, MxTransport } from '../../src/outbound/transports/mx.ts';
import { readData, type ScriptedSmtp, scriptedSmtp } from '../helpers/smtp-peer.ts';

const LIMITS = { connectMs: 1000, socketMs: 1000, attemptMs: 3000, maxReadBytes: 65536 };

/** A DNS zone as data: MX records, A and AAAA; a name not in it does not exist. */
function zone(records: {
  mx?: Record<string, { exchange: string; priority: number }[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  servfail?: string[];
}): MxResolver & { asked: string[] } {
  const asked: string[] = [];
  const lookup = <T>(kind: string, table: Record<string, T[]> | undefined, name: string): Promise<T[]> => {
    asked.push(`${kind} ${name}`);
    if (records.servfail?.includes(name))
      return Promise.reject(Object.assign(new Error('servfail'), { code: 'ESERVFAIL' }));
    const found = table?.[name];
    return found
      ? Promise.resolve(found)
      : Promise.reject(Object.assign(new Error('no such name'), { code: 'ENOTFOUND' }));
  };
  return {
    asked,
    resolveMx: (d) => lookup('MX', records.mx, d),
    resolve4: (h) => lookup('A', records.a, h),
    resolve6: (h) => lookup('AAAA', records.aaaa, h),
  };
}

function job(domain: string): DeliveryJob {
  return {
    outboundId: 'O'.repeat(22),
    deliveryId: 'D'.repeat(22),
    domain,
    mailFrom: 'app@shop.example',
    recipients: [`ann@${domain}`],
    raw: Buffer.from('Subject: mx\r\n\r\nbody\r\n'),
    source: 'api',
    client: { ip: '', authUser: null },
    attempt: 1,
  };
}

describe('MX transport', () => {
  const seen: string[] = [];
  let server: ScriptedSmtp;
  let port: number;
  before(async () => {
    server = await scriptedSmtp({
      onRcptTo(address, _s, cb) {
        seen.push(address.address);
        cb();
      },
      onData(stream, _s, cb) {
        void readData(stream).then(() => cb(null, 'Ok: from the MX'));
      },
    });
    port = server.port;
  });
  after(() => server.close());

  const transport = (resolver: MxResolver, allowInternal = true, requireTls = false) =>
    new MxTransport({ resolver, heloName: 'mailroom.test', requireTls, allowInternal, port, limits: LIMITS });
  const signal = new AbortController().signal;

  it('delivers to the preferred MX that answers, after one that refuses connections', async () => {
    const dns = zone({
      mx: {
        'one.example': [
          { exchange: 'backup.one.example', priority: 20 },
          { exchange: 'dead.one.example', priority: 5 },
        ],
      },
      a: { 'dead.one.example': ['127.0.0.2'], 'backup.one.example': ['127.0.0.1'] },
    });
    const r = await transport(dns).deliver(job('one.example'), signal);
    assert.deepEqual(
      r.results.map((x) => [x.address, x.outcome]),
      [['ann@one.example', 'delivered']],
    );
    assert.match(r.reply, /from the MX/);
    // The lower preference value was asked for first.
    assert.ok(dns.asked.indexOf('A dead.one.example') < dns.asked.indexOf('A backup.one.example'));
  });

  it('falls back to the domain itself (A) when it has no MX', async () => {
    const r = await transport(zone({ a: { 'plain.example': ['127.0.0.1'] } })).deliver(
      job('plain.example'),
      signal,
    );
    assert.equal(r.results[0]?.outcome, 'delivered');
  });

  it('bounces for a null MX and defers when DNS fails', async () => {
    const nullMx = await transport(zone({ mx: { 'none.example': [{ exchange: '', priority: 0 }] } })).deliver(
      job('none.example'),
      signal,
    );
    assert.deepEqual([nullMx.results[0]?.outcome, nullMx.reply.slice(0, 10)], ['bounced', '556 5.1.10']);
    const broken = await transport(zone({ servfail: ['flaky.example'] })).deliver(
      job('flaky.example'),
      signal,
    );
    assert.equal(broken.results[0]?.outcome, 'deferred');
    assert.match(broken.reply, /^451 4\.4\.3 MX lookup for flaky\.example failed/);
  });

  it('never connects to internal addresses unless allowed', async () => {
    const before = seen.length;
    const dns = zone({
      mx: { 'evil.example': [{ exchange: 'mx.evil.example', priority: 10 }] },
      a: { 'mx.evil.example': ['127.0.0.1', '10.1.2.3'] },
      aaaa: { 'mx.evil.example': ['::1'] },
    });
    await assert.rejects(
      transport(dns, false).deliver(job('evil.example'), signal),
      /only to internal addresses/,
    );
    assert.equal(seen.length, before);
    for (const ip of [
      '127.0.0.1',
      '10.0.0.1',
      '172.20.1.1',
      '192.168.1.1',
      '169.254.1.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(isInternalAddress(ip), true, ip);
    }
    for (const ip of ['93.184.216.34', '2606:2800:220:1::1', '::ffff:5db8:d822'])
      assert.equal(isInternalAddress(ip), false, ip);
  });

  it('sends nothing when TLS is required and the MX offers none', async () => {
    const dns = zone({
      mx: { 'tls.example': [{ exchange: 'mx.tls.example', priority: 10 }] },
      a: { 'mx.tls.example': ['127.0.0.1'] },
    });
    const before = seen.length;
    await assert.rejects(transport(dns, true, true).deliver(job('tls.example'), signal), /TLS is required/);
    assert.equal(seen.length, before);
  });
});
