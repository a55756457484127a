// mailroom/client, as an application imports it (the built package export), against a running
// Mailroom with the capture transport.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailroomClient, MailroomError } from 'mailroom/client';
import { tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';

describe('mailroom/client', () => {
  const dir = tempDir();
  let server: RunningMailroom;
  let client: MailroomClient;

  before(async () => {
    server = await spawnMailroom(['--data-dir', dir]);
    client = new MailroomClient(`http://127.0.0.1:${server.httpPort}/`);
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const message = (subject: string) => ({
    From: { Email: 'app@shop.example' },
    To: [{ Email: 'ann@one.example', Name: 'Ann' }],
    Subject: subject,
    Text: 'hello',
  });

  it('sends, and follows the message through the queue to its delivery', async () => {
    const { ID } = await client.send(message('Client send'), { idempotencyKey: `client-${Date.now()}` });
    let outbound = await client.outbound(ID);
    for (let i = 0; i < 100 && outbound.Deliveries.some((d) => d.State !== 'delivered'); i++) {
      await sleep(50);
      outbound = await client.outbound(ID);
    }
    assert.deepEqual(
      outbound.Deliveries.map((d) => [d.Domain, d.State]),
      [['one.example', 'delivered']],
    );
    assert.ok(outbound.Events.some((e) => e.Type === 'delivery:delivered'));
    assert.ok((await client.queue({ state: 'delivered' })).some((d) => d.MessageID === ID));
  });

  it('waits like Mailpit when asked, and sends batches', async () => {
    const { ID } = await client.send(message('Client waits'), { async: false });
    const inbox = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/message/${ID}`);
    assert.equal(inbox.status, 200);
    // A batch sent the Mailpit way answers once every captured message is in the inbox.
    const waited = await client.sendBatch([message('Three'), message('Four'), message('Five')], {
      async: false,
    });
    for (const r of waited) {
      assert.ok('ID' in r);
      assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/message/${r.ID}`)).status, 200);
    }
    const results = await client.sendBatch([
      message('One'),
      { ...message('Two'), To: [{ Email: 'not an address' }] },
    ]);
    assert.ok('ID' in results[0]!);
    assert.ok('Error' in results[1]! && results[1].Error.status === 400);
  });

  it('manages suppressions, and turns problems into MailroomError', async () => {
    await client.suppress({ Address: 'gone@one.example', Detail: 'asked to stop' });
    assert.deepEqual(
      (await client.suppressions()).map((s) => [s.Address, s.Reason]),
      [['gone@one.example', 'manual']],
    );
    await client.unsuppress('gone@one.example');
    assert.deepEqual(await client.suppressions(), []);
    const err = await client
      .send({ ...message('Bad'), To: [{ Email: 'ann@one.example\r\nBcc: x@evil.example' }] })
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof MailroomError);
    assert.equal(err.status, 400);
    assert.match(err.problem?.detail ?? '', /To\[0\]\.Email/);
    await assert.rejects(
      client.unsuppress('gone@one.example'),
      (e: unknown) => e instanceof MailroomError && e.status === 404,
    );
  });
});
