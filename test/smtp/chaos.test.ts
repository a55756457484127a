// Chaos testing in the SMTP layer: the --chaos syntax (ours and Mailpit's), the dice (seeded, so a
// run repeats), the replies' enhanced codes, and over real sockets with Python's smtplib and a
// raw client: a failure at each stage, latency before the reply (longer than the command
// deadline, and still not a 451), connections dropped without a reply, listeners left alone, and
// nothing stored for a DATA that failed, dropped, or whose client left while its reply was held.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import {
  Chaos,
  type ChaosTriggers,
  chaosFromConfig,
  offTrigger,
  parseChaosSpec,
  seededRandom,
} from '../../src/smtp/chaos.ts';
import { createChaosHook } from '../../src/smtp/hooks/chaos.ts';
import { chaosReply } from '../../src/smtp/replies.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { python } from './clients.ts';
import { type Harness, startHarness, storedMessages, USERS, waitFor } from './harness.ts';
import { RawClient } from './raw-client.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;

describe('chaos: the --chaos syntax', () => {
  test('our form: stages, keys, and probability 100 only when a code or disconnect is given', () => {
    const t = parseChaosSpec(
      'rcpt:code=452,probability=30;data:latency=2s; mail:disconnect ;connect:code=554',
    );
    assert.deepEqual(t['rcpt-to'], { code: 452, probability: 30, latencyMs: 0, disconnect: false });
    assert.deepEqual(t.data, { code: 451, probability: 0, latencyMs: 2000, disconnect: false });
    assert.deepEqual(t['mail-from'], { code: 451, probability: 100, latencyMs: 0, disconnect: true });
    assert.deepEqual(t.connect, { code: 554, probability: 100, latencyMs: 0, disconnect: false });
    assert.equal(t.auth, undefined);
    assert.deepEqual(parseChaosSpec('auth:latency=250ms,probability=5%').auth, {
      code: 535,
      probability: 5,
      latencyMs: 250,
      disconnect: false,
    });
    assert.deepEqual(parseChaosSpec(''), {});
  });

  test("Mailpit's --chaos-triggers form", () => {
    const t = parseChaosSpec('Sender:451:5,Recipient:550:100,Authentication:454:20');
    assert.deepEqual(t['mail-from'], { code: 451, probability: 5, latencyMs: 0, disconnect: false });
    assert.deepEqual(t['rcpt-to'], { code: 550, probability: 100, latencyMs: 0, disconnect: false });
    assert.deepEqual(t.auth, { code: 454, probability: 20, latencyMs: 0, disconnect: false });
  });

  test('mistakes are named', () => {
    const cases: [string, RegExp][] = [
      ['helo:code=451', /unknown stage "helo"/],
      ['constructor:code=451', /unknown stage/],
      ['rcpt:code=399', /rcpt-to: code must be 400 to 599/],
      ['rcpt:code=600', /code must be 400 to 599/],
      ['rcpt:probability=101', /probability must be a whole number from 0 to 100/],
      ['rcpt:probability=2.5', /not a whole number/],
      ['data:latency=2h', /not a duration/],
      ['data:latency=700s', /latency must be 0 to 600000 ms/],
      ['rcpt:colour=red', /unknown key "colour"/],
      ['rcpt:disconnect=maybe', /not true or false/],
      ['code=451', /before any stage/],
      ['rcpt:code=451;recipient:code=452', /given twice/],
      ['rcpt:code', /not key=value/],
    ];
    for (const [spec, message] of cases) assert.throws(() => parseChaosSpec(spec), message, spec);
  });

  test('a bad --chaos, or chaos on an MX, stops the start with a config error', () => {
    const config = (argv: string[]) => loadConfig({ argv, env: {} });
    assert.throws(() => chaosFromConfig(config(['--chaos', 'rcpt:code=99'])), ConfigError);
    assert.throws(
      () => chaosFromConfig(config(['--chaos-enabled', '--local-domains', 'shop.example'])),
      /cannot be used with --local-domains/,
    );
    assert.equal(chaosFromConfig(config([])), null);
    const on = chaosFromConfig(config(['--chaos-enabled']));
    assert.ok(on, '--chaos-enabled alone turns the API on');
    assert.deepEqual(on.get().data, offTrigger('data'));
  });
});

describe('chaos: dice and replies', () => {
  test('a seed repeats the sequence; 0 never fails, 100 always does', () => {
    const draws = (seed: number) => {
      const chaos = new Chaos({
        triggers: parseChaosSpec('rcpt:code=451,probability=30'),
        random: seededRandom(seed),
        listeners: ['smtp'],
      });
      return Array.from({ length: 1000 }, () => chaos.draw('rcpt-to').failure !== null);
    };
    const a = draws(42);
    assert.deepEqual(draws(42), a);
    assert.notDeepEqual(draws(43), a);
    const failed = a.filter(Boolean).length;
    assert.ok(failed > 200 && failed < 400, `about 30% of 1000 draws fail, got ${failed}`);
    const chaos = new Chaos({
      triggers: parseChaosSpec('mail:code=451,probability=100'),
      random: seededRandom(1),
      listeners: ['smtp'],
    });
    for (let i = 0; i < 200; i++) {
      assert.deepEqual(chaos.draw('mail-from').failure, { code: 451, disconnect: false });
      assert.equal(chaos.draw('rcpt-to').failure, null);
    }
  });

  test("set() replaces every trigger: one left out is off, as in Mailpit's PUT", () => {
    const chaos = new Chaos({
      triggers: parseChaosSpec('rcpt:code=451'),
      random: Math.random,
      listeners: [],
    });
    const now = chaos.set({ data: { code: 554, probability: 10, latencyMs: 5, disconnect: false } });
    assert.deepEqual(now['rcpt-to'], offTrigger('rcpt-to'));
    assert.equal(now.data.code, 554);
  });

  test('the enhanced code keeps its subject and detail and takes the class of the code', () => {
    assert.deepEqual(chaosReply('chaos-rcpt-to', 451), {
      code: 451,
      enhanced: '4.3.0',
      text: 'Simulated recipient failure (chaos testing)',
    });
    assert.equal(chaosReply('chaos-rcpt-to', 550).enhanced, '5.3.0');
    assert.equal(chaosReply('chaos-connect', 554).enhanced, '5.3.2');
    assert.equal(chaosReply('chaos-auth', 535).enhanced, '5.7.8');
    assert.equal(chaosReply('chaos-auth', 454).enhanced, '4.7.0');
  });

  test('mail queued for delivery is never touched after AUTH, and unlisted listeners never', async () => {
    const always = parseChaosSpec('connect:code=421;auth:code=454;mail:code=451;rcpt:code=451;data:code=451');
    const hook = createChaosHook(new Chaos({ triggers: always, random: Math.random, listeners: ['smtp'] }));
    const facts = { sessionId: 's', clientIp: '127.0.0.1', clientPort: 1, secure: false, authUser: 'ann' };
    for (const stage of ['mail-from', 'rcpt-to', 'data'] as const) {
      assert.equal((await hook({ ...facts, listener: 'smtp', stage, outbound: true })).kind, 'accept');
      assert.equal((await hook({ ...facts, listener: 'smtp', stage, outbound: false })).kind, 'defer');
    }
    assert.equal((await hook({ ...facts, listener: 'smtp', stage: 'auth', outbound: true })).kind, 'defer');
    assert.equal(
      (await hook({ ...facts, listener: 'submission', stage: 'rcpt-to', outbound: false })).kind,
      'accept',
    );
  });
});

/** Where a whole smtplib transaction ended: the stage, and the code and text it got (null: dropped). */
interface Outcome {
  stage: string;
  code: number | null;
  text: string;
}

const TRANSACTION = `stage = 'connect'
def done(code, text):
    print(json.dumps({'stage': stage, 'code': code, 'text': text.decode() if isinstance(text, bytes) else text}))
    sys.exit(0)
try:
    s = smtplib.SMTP('127.0.0.1', ARGS['port'], local_hostname='py.example.test', timeout=30)
    s.ehlo()
    if ARGS.get('user'):
        stage = 'auth'
        try:
            s.login(ARGS['user'], ARGS['password'])
        except smtplib.SMTPAuthenticationError as e:
            done(e.smtp_code, e.smtp_error)
    stage = 'mail'
    code, text = s.mail('sender@example.test')
    if code != 250: done(code, text)
    stage = 'rcpt'
    code, text = s.rcpt('rcpt@example.test')
    if code != 250: done(code, text)
    stage = 'data'
    code, text = s.data(ARGS['body'].encode())
    done(code, text)
except smtplib.SMTPConnectError as e:
    done(e.smtp_code, e.smtp_error)
except smtplib.SMTPServerDisconnected as e:
    done(None, str(e))
`;

describe('chaos over real sockets (smtplib and a raw client)', () => {
  let h: Harness;
  const chaos = new Chaos({ random: Math.random, listeners: ['smtp'] });
  const set = (spec: string) => chaos.set(parseChaosSpec(spec) as Partial<ChaosTriggers>);
  const transaction = async (args: {
    user?: string;
    password?: string;
    subject: string;
  }): Promise<Outcome> => {
    const body = `Subject: ${args.subject}\r\nFrom: sender@example.test\r\n\r\nhello\r\n`;
    const r = await python(TRANSACTION, { port: h.ports.smtp, body, ...args });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Outcome;
  };
  const subjects = async () =>
    (await storedMessages(h.storage)).map((m) => /^Subject: (.*)$/m.exec(m.raw.toString())?.[1]);

  before(async () => {
    h = await startHarness(sqlite, {
      flags: ['--smtp-auth-allow-insecure'],
      hooks: { chaos: createChaosHook(chaos) },
    });
  });
  after(async () => h.close());

  test('each stage answers with its code, enhanced code and text', async () => {
    set('connect:code=421');
    assert.deepEqual(await transaction({ subject: 'c' }), {
      stage: 'connect',
      code: 421,
      text: '4.3.2 Simulated failure at connect (chaos testing)',
    });
    set('connect:code=554');
    assert.match((await transaction({ subject: 'c' })).text, /^5\.3\.2 Simulated failure at connect/);
    set('auth:code=454');
    assert.deepEqual(await transaction({ ...USERS.scrypt, subject: 'a' }), {
      stage: 'auth',
      code: 454,
      text: '4.7.0 Simulated authentication failure (chaos testing)',
    });
    set('auth:code=535');
    assert.match((await transaction({ ...USERS.scrypt, subject: 'a' })).text, /^5\.7\.8 /);
    set('mail:code=451');
    assert.deepEqual(await transaction({ subject: 'm' }), {
      stage: 'mail',
      code: 451,
      text: '4.3.0 Simulated sender failure (chaos testing)',
    });
    set('rcpt:code=550');
    assert.deepEqual(await transaction({ subject: 'r' }), {
      stage: 'rcpt',
      code: 550,
      text: '5.3.0 Simulated recipient failure (chaos testing)',
    });
    set('data:code=452');
    assert.deepEqual(await transaction({ subject: 'refused at data' }), {
      stage: 'data',
      code: 452,
      text: '4.3.0 Simulated failure after DATA (chaos testing); the message was not stored',
    });
    set('');
    const ok = await transaction({ ...USERS.scrypt, subject: 'accepted' });
    assert.equal(ok.stage, 'data');
    assert.equal(ok.code, 250);
    assert.deepEqual(await subjects(), ['accepted'], 'only the message that got its 250 is stored');
  });

  test('a message that got its 250 stays stored; chaos turned on afterwards changes nothing of it', async () => {
    set('');
    assert.equal((await transaction({ subject: 'kept' })).code, 250);
    set('data:code=451');
    assert.equal((await transaction({ subject: 'refused' })).code, 451);
    set('data:disconnect');
    const dropped = await transaction({ subject: 'dropped' });
    assert.equal(dropped.stage, 'data');
    assert.equal(dropped.code, null, 'the connection closed without a reply');
    const stored = await subjects();
    assert.ok(stored.includes('kept'));
    assert.ok(!stored.includes('refused') && !stored.includes('dropped'), stored.join(','));
  });

  test('latency comes before the reply, also longer than the command deadline, and fails nothing', async () => {
    set('mail:latency=600ms;rcpt:latency=2500ms');
    const { client } = await RawClient.ready(h.ports.smtp);
    let started = performance.now();
    assert.match((await client.command('MAIL FROM:<s@example.test>', 10_000)).text, /^250 /);
    assert.ok(performance.now() - started >= 500, 'MAIL FROM answered after its latency');
    started = performance.now();
    // The harness's --smtp-command-timeout is 2 s: a hook that slow would have been a 451.
    assert.match((await client.command('RCPT TO:<r@example.test>', 10_000)).text, /^250 /);
    assert.ok(performance.now() - started >= 2400, 'RCPT TO answered after its latency');
    client.destroy();
  });

  test('disconnect closes the connection without any reply', async () => {
    set('rcpt:disconnect');
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.equal((await client.command('MAIL FROM:<s@example.test>')).code, 250);
    client.write('RCPT TO:<r@example.test>\r\n');
    await client.closed;
    assert.equal(client.unread, '', 'not a byte of reply');
    set('connect:disconnect');
    const raw = await RawClient.connect(h.ports.smtp);
    await raw.closed;
    assert.equal(raw.unread, '', 'no greeting');
  });

  test('a client that leaves while the DATA reply is held gets nothing stored', async () => {
    set('data:latency=3000ms');
    const before = (await subjects()).length;
    const { client } = await RawClient.ready(h.ports.smtp);
    assert.equal((await client.command('MAIL FROM:<s@example.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<r@example.test>')).code, 250);
    assert.equal((await client.command('DATA')).code, 354);
    client.write('Subject: left early\r\n\r\nbye\r\n.\r\n');
    // Time for the bytes to arrive on loopback, well inside the 3 s the reply is held.
    await new Promise((r) => setTimeout(r, 500));
    client.destroy();
    await waitFor(
      () => h.logText().includes('smtp client gone before the reply to DATA; nothing stored'),
      'the held DATA to be given up',
      10_000,
    );
    assert.equal((await subjects()).length, before);
  });

  test('listeners not in --chaos-listeners are left alone', async () => {
    set('connect:code=421');
    const { client, ehlo } = await RawClient.ready(h.ports.submission);
    assert.equal(ehlo.code, 250);
    client.destroy();
    set('');
  });
});
