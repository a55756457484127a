// Inbound routing end to end on a real process, on both engines: a routes file sends mail to
// support-<n>@ to a signed webhook (a real HTTP receiver on loopback that verifies the signature),
// to a NATS subject (a real subscriber) and tags it; the message's routing record shows each step.
// A webhook the receiver refuses for good fails, and a replay after the receiver is fixed succeeds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { verifySignature } from '../../src/actions/webhook/sign.ts';
import { tempDir } from '../helpers/backends.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';

const NATS_URL = process.env.MAILROOM_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

interface Received {
  body: Record<string, unknown>;
  verified: boolean;
  deliveryId: string | undefined;
}

interface Routing {
  Events: { ID: string; Type: string; RouteID: string | null; Data: Record<string, unknown> }[];
  Actions: { ID: string; Type: string; State: string; Attempts: number; LastError: string | null }[];
}

function smtpSend(port: number, from: string, rcpt: string, text: string): void {
  const script = [
    'import smtplib, sys',
    'data = sys.stdin.buffer.read()',
    `with smtplib.SMTP("127.0.0.1", ${port}, timeout=10) as s:`,
    `    s.sendmail(${JSON.stringify(from)}, [${JSON.stringify(rcpt)}], data)`,
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { input: text.replace(/\r?\n/g, '\r\n'), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(50);
  }
  assert.fail(`${what}: did not happen`);
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`inbound routes end to end: ${engine}`, () => {
    const secret = `test-${Math.random().toString(36).slice(2)}${'x'.repeat(32)}`;
    const received: Received[] = [];
    let status = 200;
    let receiver: http.Server;
    let server: MailroomOnEngine;
    let nats: NatsConnection;
    let sub: Subscription;
    const published: Record<string, unknown>[] = [];
    const subject = `mailroom.test.${engine}.${process.pid}.${Date.now()}`;
    const dir = tempDir();

    before(async () => {
      receiver = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const check = verifySignature(
            [secret],
            req.headers as Record<string, string>,
            body,
            Date.now(),
            300,
          );
          received.push({
            body: JSON.parse(body) as Record<string, unknown>,
            verified: check.ok,
            deliveryId: req.headers['mailroom-delivery-id'] as string | undefined,
          });
          res.writeHead(status).end();
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      nats = await connect({ servers: NATS_URL });
      sub = nats.subscribe(subject);
      void (async () => {
        for await (const m of sub) published.push(m.json<Record<string, unknown>>());
      })();
      const routes = [
        {
          ID: 'tickets',
          Name: 'support tickets',
          Priority: 10,
          Conditions: [{ Field: 'recipient', Op: 'regex', Value: '^support-(?<ticket>\\d+)@' }],
          Actions: [
            { Type: 'webhook', URL: `${hook}/tickets`, Attachments: 'inline' },
            { Type: 'publish', Target: { Kind: 'nats', Servers: NATS_URL, Subject: subject } },
            { Type: 'store', Tags: ['ticket'] },
            { Type: 'stop' },
          ],
        },
        {
          ID: 'gone',
          Name: 'a receiver that refuses',
          Priority: 20,
          Conditions: [{ Field: 'recipient', Op: 'glob', Value: 'gone@*' }],
          Actions: [{ Type: 'webhook', URL: `${hook}/gone`, Attachments: 'none' }],
        },
      ];
      const file = path.join(dir, 'routes.json');
      fs.writeFileSync(file, JSON.stringify(routes));
      server = await mailroomOn(engine, [
        '--routes-file',
        file,
        '--webhook-secret',
        secret,
        '--webhook-allow',
        '127.0.0.1',
      ]);
    });

    after(async () => {
      await server?.dispose();
      await sub?.drain();
      await nats?.close();
      receiver?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function messageTo(rcpt: string): Promise<string> {
      return until(`a message to ${rcpt}`, async () => {
        const res = await fetch(`${server.base}/api/v1/search?query=${encodeURIComponent(`to:${rcpt}`)}`);
        const list = (await res.json()) as { messages: { ID: string }[] };
        return list.messages[0]?.ID;
      });
    }

    async function routing(id: string): Promise<Routing> {
      return (await (await fetch(`${server.base}/api/v1/message/${id}/routing`)).json()) as Routing;
    }

    it('routes a message to a signed webhook, a NATS subject and a tag, and records each step', async () => {
      const mail = [
        'From: Nic <nic@ferrier.test>',
        'To: support-7102@support.example',
        'Subject: RE: I cannot login',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Still broken.',
        '',
        'On Mon, 23 Nov 2026 at 10:00, Support <support-7102@support.example> wrote:',
        '> Please try again.',
        '--b',
        'Content-Type: text/plain; name="log.txt"',
        'Content-Disposition: attachment; filename="log.txt"',
        '',
        'error 42',
        '--b--',
        '',
      ].join('\n');
      smtpSend(server.smtpPort, 'nic@ferrier.test', 'support-7102@support.example', mail);
      const id = await messageTo('support-7102@support.example');
      const done = await until('every action of the route', async () => {
        const r = await routing(id);
        return r.Actions.length === 3 && r.Actions.every((a) => a.State === 'succeeded') ? r : undefined;
      });
      assert.deepEqual(
        done.Actions.map((a) => a.Type),
        ['webhook', 'publish', 'store'],
      );
      const matched = done.Events.find((e) => e.Type === 'route:matched');
      assert.equal(matched?.RouteID, 'tickets');
      assert.deepEqual(matched?.Data.captures, { ticket: '7102' });
      assert.equal(done.Events.filter((e) => e.Type === 'action:succeeded').length, 3);
      assert.equal(
        done.Events.some((e) => e.RouteID === 'gone'),
        false,
      );

      const hook = received.find((r) => r.body.ID === id);
      assert.ok(hook, 'the webhook was called');
      assert.equal(hook.verified, true);
      assert.equal(hook.deliveryId, `${id}:tickets:0`);
      assert.equal(hook.body.StrippedText, 'Still broken.');
      assert.deepEqual(hook.body.Route, {
        ID: 'tickets',
        Captures: { ticket: '7102' },
        Recipient: 'support-7102@support.example',
      });
      const files = hook.body.Attachments as { FileName: string; Content?: string }[];
      assert.equal(files[0]?.FileName, 'log.txt');
      assert.equal(
        Buffer.from(files[0]?.Content ?? '', 'base64')
          .toString()
          .trim(),
        'error 42',
      );

      const event = await until('the NATS message', async () => published.find((p) => p.ID === id));
      assert.equal(event.Subject, 'RE: I cannot login');
      const msg = (await (await fetch(`${server.base}/api/v1/message/${id}`)).json()) as { Tags: string[] };
      assert.deepEqual(msg.Tags, ['ticket']);
    });

    it('fails a webhook its receiver refuses for good, and replays it once the receiver is fixed', async () => {
      status = 410;
      smtpSend(
        server.smtpPort,
        'nic@ferrier.test',
        'gone@support.example',
        'To: gone@support.example\nSubject: hello\n\nhi\n',
      );
      const id = await messageTo('gone@support.example');
      const failed = await until('the failed webhook', async () => {
        const r = await routing(id);
        return r.Actions[0]?.State === 'failed' ? r : undefined;
      });
      assert.match(failed.Actions[0]!.LastError ?? '', /410/);
      assert.equal(failed.Events.find((e) => e.Type === 'action:failed')?.Data.willRetry, false);
      status = 200;
      const replay = await fetch(`${server.base}/api/v1/actions/${failed.Actions[0]!.ID}/replay`, {
        method: 'POST',
      });
      assert.equal(replay.status, 200);
      const after = await until('the replayed webhook', async () => {
        const r = await routing(id);
        return r.Actions[0]?.State === 'succeeded' ? r : undefined;
      });
      assert.equal(after.Actions[0]!.Attempts, 2);
      assert.equal(received.filter((r) => r.body.ID === id).length, 2);
    });
  });
}
