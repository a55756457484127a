// Chaos end to end: a real Mailroom process started with --chaos-enabled, driven through
// GET/PUT /api/v1/chaos (our shape, and Mailpit's through the mailpit-api client). An application
// that retries on 4xx (nodemailer, as an app would use it) meets a failure, the test turns chaos
// off through the API, and the retry delivers exactly one message. swaks sees each stage's reply;
// the API refuses bad triggers with problem JSON; --chaos-seed makes the dice repeat.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { seededRandom } from '../../src/smtp/chaos.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { run } from '../smtp/clients.ts';
import { RawClient } from '../smtp/raw-client.ts';

const SEED = 7;

interface Problem {
  type: string;
  status: number;
  detail: string;
}

describe('chaos end to end (a Mailroom process)', () => {
  let server: MailroomOnEngine;

  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${server.base}${route}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', json: await res.json() };
  };
  const putChaos = async (body: unknown) => {
    const r = await api('PUT', '/api/v1/chaos', body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return r.json;
  };
  const total = async () => ((await api('GET', '/api/v1/messages?limit=1')).json as { total: number }).total;

  before(async () => {
    server = await mailroomOn('sqlite', [
      ...['--chaos', 'rcpt:code=451,probability=50', '--chaos-seed', String(SEED)],
      // AUTH on the plain listener, so that swaks can meet the auth stage.
      ...['--smtp-auth-accept-any', '--smtp-auth-allow-insecure'],
    ]);
  });
  after(async () => server?.dispose());

  it('--chaos-seed: the failures of a run follow the seeded sequence exactly', async () => {
    const dice = seededRandom(SEED);
    const expected = Array.from({ length: 40 }, () => (dice() * 100 < 50 ? 451 : 250));
    const { client } = await RawClient.ready(server.smtpPort);
    assert.equal((await client.command('MAIL FROM:<s@example.test>')).code, 250);
    const got: number[] = [];
    for (let i = 0; i < 40; i++) got.push((await client.command(`RCPT TO:<r${i}@example.test>`)).code);
    client.destroy();
    assert.deepEqual(got, expected);
    assert.ok(got.includes(451) && got.includes(250));
  });

  it('GET shows every trigger; the flag set Recipient', async () => {
    const r = await api('GET', '/api/v1/chaos');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      Sender: { ErrorCode: 451, Probability: 0, LatencyMs: 0, Disconnect: false },
      Recipient: { ErrorCode: 451, Probability: 50, LatencyMs: 0, Disconnect: false },
      Authentication: { ErrorCode: 535, Probability: 0, LatencyMs: 0, Disconnect: false },
      Connect: { ErrorCode: 421, Probability: 0, LatencyMs: 0, Disconnect: false },
      Data: { ErrorCode: 451, Probability: 0, LatencyMs: 0, Disconnect: false },
    });
    const webui = (await api('GET', '/api/v1/webui')).json as { ChaosEnabled: boolean };
    assert.equal(webui.ChaosEnabled, true);
  });

  it("Mailpit's shape through the mailpit-api client: a trigger left out is reset", async () => {
    const mailpit = new MailpitClient(server.base);
    const set = await mailpit.setChaosTriggers({ Sender: { ErrorCode: 0, Probability: 5 } });
    assert.deepEqual(set.Sender, { ErrorCode: 451, Probability: 5, LatencyMs: 0, Disconnect: false });
    assert.equal(set.Recipient.Probability, 0);
    assert.deepEqual((await mailpit.getChaosTriggers()).Sender, set.Sender);
    const reset = await mailpit.setChaosTriggers();
    assert.equal(reset.Sender.Probability, 0);
  });

  it('bad triggers are refused with 400 problem JSON naming the field, and change nothing', async () => {
    await putChaos({ Data: { ErrorCode: 554, Probability: 10 } });
    const cases: [unknown, RegExp][] = [
      [{ Recipient: { ErrorCode: 399, Probability: 10 } }, /Recipient\.ErrorCode: must be 400 to 599/],
      [{ Recipient: { ErrorCode: 600 } }, /Recipient\.ErrorCode/],
      [{ Sender: { Probability: 101 } }, /Sender\.Probability/],
      [{ Sender: { Probability: -1 } }, /Sender\.Probability/],
      [{ Sender: { Probability: 2.5 } }, /Sender\.Probability/],
      [{ Data: { LatencyMs: 600_001 } }, /Data\.LatencyMs/],
      [{ Data: { Disconnect: 'yes' } }, /Data\.Disconnect/],
      [{ Recipients: { Probability: 5 } }, /Recipients/],
      [{ Sender: { Probability: 5, Colour: 'red' } }, /Colour/],
      [[], /Invalid chaos triggers/],
      ['{"Sender":', /not valid JSON/],
    ];
    for (const [body, detail] of cases) {
      const r = await api('PUT', '/api/v1/chaos', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.type, /^application\/problem\+json/);
      const p = r.json as Problem;
      assert.equal(p.type, 'urn:mailroom:problem:bad-request');
      assert.match(p.detail, detail, JSON.stringify(body));
    }
    const now = (await api('GET', '/api/v1/chaos')).json as { Data: { ErrorCode: number } };
    assert.equal(now.Data.ErrorCode, 554, 'a refused PUT left the triggers as they were');
    await putChaos({});
  });

  it('swaks meets each stage with its code and enhanced code', async () => {
    const swaks = async (extra: string[] = []) => {
      const r = await run('swaks', [
        ...['--server', `127.0.0.1:${server.smtpPort}`, '--from', 's@example.test', '--to', 'r@example.test'],
        ...extra,
      ]);
      return r.stdout + r.stderr;
    };
    const stages: [unknown, string[], RegExp][] = [
      [
        { Connect: { ErrorCode: 421, Probability: 100 } },
        [],
        /<\*\* 421 4\.3\.2 Simulated failure at connect/,
      ],
      [
        { Authentication: { ErrorCode: 454, Probability: 100 } },
        ['--auth', 'PLAIN', '--auth-user', 'ann', '--auth-password', 'x'],
        /<\*\* 454 4\.7\.0 Simulated authentication failure/,
      ],
      [{ Sender: { ErrorCode: 421, Probability: 100 } }, [], /<\*\* 421 4\.3\.0 Simulated sender failure/],
      [
        { Recipient: { ErrorCode: 450, Probability: 100 } },
        [],
        /<\*\* 450 4\.3\.0 Simulated recipient failure/,
      ],
      [{ Data: { ErrorCode: 554, Probability: 100 } }, [], /<\*\* 554 5\.3\.0 Simulated failure after DATA/],
    ];
    const before = await total();
    for (const [triggers, extra, expected] of stages) {
      await putChaos(triggers);
      assert.match(await swaks(extra), expected);
    }
    await putChaos({ Recipient: { Disconnect: true, Probability: 100 } });
    assert.match(await swaks(), /Remote host closed connection unexpectedly/);
    assert.equal(await total(), before, 'no refused or dropped transaction stored anything');
    await putChaos({});
    assert.match(await swaks(), /<- {2}250 2\.0\.0 Ok: queued as/);
    assert.equal(await total(), before + 1);
  });

  it('a latency set through the API holds the reply', async () => {
    await putChaos({ Data: { LatencyMs: 1000 } });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    const started = performance.now();
    await transport.sendMail({ from: 's@example.test', to: 'r@example.test', subject: 'slow', text: 'x' });
    assert.ok(performance.now() - started >= 900, 'the 250 came after the latency');
    transport.close();
    await putChaos({});
  });

  describe('an application that retries on 4xx', () => {
    interface Sent {
      attempts: number;
      failures: { code: number | undefined; response: string | undefined }[];
      error?: Error & { responseCode?: number };
    }

    /** The app under test: nodemailer, a new connection per attempt, retrying temporary failures. */
    async function deliver(
      mail: SendMailOptions,
      beforeRetry: (attempt: number) => Promise<void>,
    ): Promise<Sent> {
      const sent: Sent = { attempts: 0, failures: [] };
      for (;;) {
        sent.attempts++;
        const transport = nodemailer.createTransport({
          host: '127.0.0.1',
          port: server.smtpPort,
          secure: false,
          ignoreTLS: true,
        });
        try {
          await transport.sendMail(mail);
          return sent;
        } catch (err) {
          const e = err as Error & { responseCode?: number; response?: string };
          sent.failures.push({ code: e.responseCode, response: e.response });
          // No reply at all (a dropped connection) is as temporary as a 4xx; a 5xx is final.
          const temporary = e.responseCode === undefined || (e.responseCode >= 400 && e.responseCode < 500);
          if (!temporary || sent.attempts >= 5) return { ...sent, error: e };
          await beforeRetry(sent.attempts);
          await new Promise((r) => setTimeout(r, 100 * sent.attempts));
        } finally {
          transport.close();
        }
      }
    }

    const mail = (subject: string) => ({
      from: 'app@example.test',
      to: 'user@example.test',
      subject,
      text: 'Your code is 424242.',
    });

    for (const [name, trigger] of [
      ['a 451 at RCPT', { Recipient: { ErrorCode: 451, Probability: 100 } }],
      ['a 421 before the greeting', { Connect: { ErrorCode: 421, Probability: 100 } }],
      ['a connection dropped after DATA', { Data: { Disconnect: true, Probability: 100 } }],
      ['a 452 after DATA', { Data: { ErrorCode: 452, Probability: 100 } }],
    ] as const) {
      it(`${name}: chaos at 100 %, then 0 %, and the retry delivers exactly one message`, async () => {
        await putChaos(trigger);
        const before = await total();
        const sent = await deliver(mail(name), async () => {
          await putChaos({ ...trigger, [Object.keys(trigger)[0]!]: { Probability: 0 } });
        });
        assert.equal(sent.error, undefined, sent.error?.message);
        assert.equal(sent.attempts, 2);
        assert.equal(sent.failures.length, 1);
        assert.equal(await total(), before + 1, 'exactly one copy, from the retry');
      });
    }

    it('the 451 the app saw is the one the trigger set', async () => {
      await putChaos({ Recipient: { ErrorCode: 451, Probability: 100 } });
      const sent = await deliver(mail('code check'), async () => {
        await putChaos({});
      });
      assert.equal(sent.failures[0]?.code, 451);
      assert.match(sent.failures[0]?.response ?? '', /^451 4\.3\.0 Simulated recipient failure/);
    });

    it('a 5xx is final: the app gives up at once and nothing is stored', async () => {
      await putChaos({ Recipient: { ErrorCode: 550, Probability: 100 } });
      const before = await total();
      const sent = await deliver(mail('permanent'), async () => assert.fail('a 5xx must not be retried'));
      assert.equal(sent.attempts, 1);
      assert.equal(sent.error?.responseCode, 550);
      assert.equal(await total(), before);
      await putChaos({});
    });
  });

  it('release is off without --release-host: 409 problem JSON', async () => {
    const r = await api('POST', '/api/v1/message/latest/release', { To: ['a@example.test'] });
    assert.equal(r.status, 409);
    assert.match(r.type, /^application\/problem\+json/);
    assert.match((r.json as Problem).detail, /--release-host/);
  });
});
