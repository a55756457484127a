// Sender authentication in MX mode, in process with a fake DNS zone injected, on both engines: a
// message DKIM-signed by its From domain from an address its SPF allows is stored with our
// Authentication-Results on top and matches a route on dmarc=pass; the same message with its body
// changed fails DKIM and DMARC and does not; a forged Authentication-Results in our name is renamed.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dkimSign } from 'mailauth';
import type { Mailroom } from '../../src/app.ts';
import { createFakeDns, txt } from '../helpers/fake-dns.ts';
import { type InProcessRig, inProcessRig, mailWhen, sendToMx } from '../helpers/in-process.ts';

const HOST = 'mx.mailroom.test';

function dkimKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    record: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

function mail(subject: string, body: string, extra: string[] = []): Buffer {
  return Buffer.from(
    [
      ...extra,
      'From: Ann <ann@sender.example>',
      'To: orders@shop.example',
      `Subject: ${subject}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <${subject.replace(/\W/g, '')}@sender.example>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`sender authentication in MX mode: ${engine}`, () => {
    let rig: InProcessRig;
    let server: Mailroom;
    const key = dkimKey();

    before(async () => {
      rig = await inProcessRig({
        engine,
        hostname: HOST,
        resolver: createFakeDns({
          'sender.example': { TXT: txt('v=spf1 ip4:127.0.0.1 -all') },
          'sel._domainkey.sender.example': { TXT: txt(key.record) },
          '_dmarc.sender.example': { TXT: txt('v=DMARC1; p=reject') },
        }).resolve,
        args: ['--local-domains', 'shop.example'],
        routes: [
          {
            ID: 'verified',
            Name: 'authenticated orders',
            Conditions: [{ Field: 'auth', Check: 'dmarc', Op: 'equals', Value: 'pass' }],
            Actions: [{ Type: 'store', Tags: ['verified'] }],
          },
        ],
      });
      server = await rig.start();
    });
    after(() => rig?.dispose());

    const send = (raw: Buffer, from = 'ann@sender.example') =>
      sendToMx(server, raw, from, ['orders@shop.example']);

    async function sign(raw: Buffer): Promise<Buffer> {
      const signatureData = [
        { signingDomain: 'sender.example', selector: 'sel', privateKey: key.privateKey },
      ];
      const signed = await dkimSign(raw, { ...signatureData[0]!, signatureData });
      assert.deepEqual(signed.errors, []);
      return Buffer.concat([Buffer.from(signed.signatures), raw]);
    }

    /** The stored message, once `done` holds for it (its actions finished, say). */
    async function stored(
      subject: string,
      done: (tags: string[]) => boolean = () => true,
    ): Promise<{ id: string; raw: string; tags: string[] }> {
      for (let i = 0; i < 300; i++) {
        const { messages } = await server.storage.list({ start: 0, limit: 50 } as never);
        const m = messages.find((x) => x.subject === subject && x.parseState !== 'pending');
        const again = m ? await server.storage.get(m.id) : null;
        if (m && again && done(again.tags)) {
          const raw = Buffer.from((await server.storage.getRaw(m.id))!).toString();
          return { id: m.id, raw, tags: again.tags };
        }
        await sleep(50);
      }
      assert.fail(`${subject}: not stored as expected`);
    }

    it('records pass results on top of a signed message, and routes it on dmarc=pass', async () => {
      const raw = mail('Order 1', 'Two boxes, please.', [
        `Authentication-Results: ${HOST}; dkim=pass; dmarc=pass`,
      ]);
      await send(await sign(raw));
      const m = await stored('Order 1', (tags) => tags.length > 0);
      const first = m.raw.split('\r\n')[0]!;
      assert.match(first, new RegExp(`^Authentication-Results: ${HOST.replace(/\./g, '\\.')};`));
      const header = m.raw.slice(0, m.raw.indexOf('\r\nDKIM-Signature'));
      assert.match(header, /spf=pass/);
      assert.match(header, /dkim=pass/);
      assert.match(header, /dmarc=pass/);
      // The sender's own claim in our name is kept, renamed, and not believed.
      assert.match(m.raw, /\r\nUntrusted-Authentication-Results: mx\.mailroom\.test; dkim=pass; dmarc=pass/);
      assert.deepEqual(m.tags, ['verified']);
      // Shown by the API with the routing of the message.
      const http = server.httpAddress()!;
      const routing = (await (
        await fetch(`http://127.0.0.1:${http.port}/api/v1/message/${m.id}/routing`)
      ).json()) as {
        Listener: string;
        Authentication: { SPF: string; DKIM: string[]; DMARC: string; ARC: string; Header: string };
      };
      assert.equal(routing.Listener, 'smtp');
      assert.deepEqual(
        [routing.Authentication.SPF, routing.Authentication.DKIM, routing.Authentication.DMARC],
        ['pass', ['pass'], 'pass'],
      );
      assert.match(routing.Authentication.Header, /^mx\.mailroom\.test; /);
    });

    it('fails DKIM, and DMARC without an aligned SPF pass, when the body was changed after signing', async () => {
      const raw = mail('Order 2', 'One box.');
      const forged = Buffer.from((await sign(raw)).toString().replace('One box.', 'Nine boxes.'));
      // From a forwarder's envelope: SPF does not align with the From domain, so DMARC rests on DKIM.
      await send(forged, 'fwd@relay.example');
      // Routing goes in arrival order: once a later good message is routed, this one was too.
      await send(await sign(mail('Order 3', 'Three boxes.')));
      await stored('Order 3', (tags) => tags.length > 0);
      const m = await stored('Order 2');
      const header = m.raw.slice(0, m.raw.indexOf('\r\nDKIM-Signature'));
      assert.match(header, /dkim=fail/);
      assert.match(header, /dmarc=fail/);
      assert.deepEqual(m.tags, []);
    });
  });
}

describe('sender results in our name without MX mode', () => {
  let rig: InProcessRig;
  let server: Mailroom;
  before(async () => {
    rig = await inProcessRig({
      engine: 'sqlite',
      hostname: HOST,
      resolver: createFakeDns({}).resolve,
      routes: [
        {
          ID: 'verified',
          Name: 'authenticated orders',
          Conditions: [{ Field: 'auth', Check: 'dmarc', Op: 'equals', Value: 'pass' }],
          Actions: [{ Type: 'store', Tags: ['verified'] }],
        },
      ],
    });
    server = await rig.start();
  });
  after(() => rig?.dispose());

  it('renames a forged Authentication-Results in our name, so no route or view takes it for ours', async () => {
    await sendToMx(
      server,
      mail('Forged', 'Trust me.', [`Authentication-Results: ${HOST}; spf=pass; dkim=pass; dmarc=pass`]),
      'ann@sender.example',
      ['orders@shop.example'],
    );
    const [m] = await mailWhen(server, 'stored and routed', (ms) => ms.length === 1 && ms[0]!.parsed);
    assert.match(m!.raw, /^Untrusted-Authentication-Results: mx\.mailroom\.test; spf=pass/);
    const http = server.httpAddress()!;
    const routing = (await (
      await fetch(`http://127.0.0.1:${http.port}/api/v1/message/${m!.id}/routing`)
    ).json()) as {
      Authentication: unknown;
      Events: unknown[];
    };
    assert.equal(routing.Authentication, null);
    // Routing ran (the cursor passed it) and the auth route did not match.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await server.storage.get(m!.id))!.tags, []);
  });
});
