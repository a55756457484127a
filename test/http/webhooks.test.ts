// Webhook endpoints and signed attachment downloads through the HTTP API, against every backend:
// a webhook action with `attachments: 'url'` posts a payload whose URLs download the parts with no
// credentials (the API itself still wants a token); a changed or expired URL is a 403, a deleted
// message a 404. A URL that keeps failing is disabled (webhook:disabled in the message's routing
// record), listed as such, and enabled again through the API.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ActionContext } from '../../src/actions/action.ts';
import type { InboundPayload } from '../../src/actions/payload.ts';
import { attachmentUrl, attachmentUrlsFromConfig } from '../../src/actions/webhook/attachment-url.ts';
import { type WebhookActionDeps, webhookAction } from '../../src/actions/webhook/webhook-action.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { WebhookAction } from '../../src/domain/route.ts';
import { createHttpApp } from '../../src/http/app.ts';
import { createAccessPolicy } from '../../src/http/middleware/access.ts';
import { webhookEndpointList, webhookEndpointShape } from '../../src/http/routes/webhooks/schema.ts';
import { createAddressPolicy } from '../../src/net/address-policy.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { ActionJob } from '../../src/storage/inbound-ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json, store } from './helpers.ts';

const KEY = 'a'.repeat(40);
const TOKEN = `${'t'.repeat(32)}:read+manage`;
const READ_ONLY = `${'r'.repeat(32)}:read`;
const bearer = (t: string) => ({ Authorization: `Bearer ${t.replace(/:.*$/, '')}` });
const DAY = 86_400_000;
const PDF = Buffer.from('%PDF-1.4\n% not really a PDF\n');

const MAIL = [
  'From: Ann <ann@sender.test>',
  'To: support@example.test',
  'Subject: Invoice',
  'Message-ID: <inv1@sender.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'See attached.',
  '--b1',
  'Content-Type: application/pdf',
  `Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
  'Content-Transfer-Encoding: base64',
  '',
  PDF.toString('base64'),
  '--b1--',
  '',
].join('\r\n');

for (const backend of BACKENDS) {
  describe(`webhooks: ${backend.name}`, () => {
    const s = backendSuite(backend);
    let clock = Date.now();
    let replies: number[] = [];
    const bodies: string[] = [];
    let server: http.Server;
    let port = 0;

    before(async () => {
      server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          bodies.push(Buffer.concat(chunks).toString('utf8'));
          res.writeHead(replies.length > 1 ? replies.shift()! : (replies[0] ?? 200)).end();
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    /** The suite's app with attachment URLs on, an API that needs a token, and our clock. */
    async function app() {
      const config = loadConfig({
        argv: ['--data-dir', '.', '--attachment-url-secret', KEY, '--http-tokens', `${TOKEN},${READ_ONLY}`],
        env: {},
      });
      return createHttpApp({
        ...s.t.deps,
        config,
        access: await createAccessPolicy(config),
        send: { ...s.t.deps.send, now: () => clock },
      });
    }

    function executor(over: Partial<WebhookActionDeps> = {}) {
      return webhookAction({
        secrets: ['w'.repeat(32)],
        policy: createAddressPolicy({ allow: ['127.0.0.1/32'] }),
        resolver: { resolve4: async () => ['127.0.0.1'], resolve6: async () => [] },
        parser: s.parser,
        timeoutMs: 5000,
        userAgent: 'Mailroom/test',
        maxInlineBytes: 1024,
        endpoints: s.storage.inbound,
        disableAfter: 2,
        attachmentUrls: attachmentUrlsFromConfig({
          publicUrl: 'https://mail.example.test',
          attachmentUrlSecret: KEY,
          attachmentUrlLifetime: 7 * DAY,
        }),
        logger: createLogger('silent'),
        now: () => clock,
        ...over,
      });
    }

    async function run(messageId: string, action: WebhookAction, over: Partial<WebhookActionDeps> = {}) {
      const message = await s.storage.get(messageId);
      assert.ok(message);
      const at = new Date(clock).toISOString();
      const job: ActionJob = {
        id: `${messageId}:hooks:0`,
        messageId,
        routeId: 'hooks',
        actionIndex: 0,
        action,
        captures: {},
        recipient: null,
        expiresAt: new Date(clock + DAY).toISOString(),
        state: 'running',
        attempts: 1,
        nextAttemptAt: at,
        lastError: null,
        createdAt: at,
        updatedAt: at,
      };
      const ctx: ActionContext = {
        job,
        message,
        raw: () => s.storage.getRaw(messageId),
        signal: new AbortController().signal,
      };
      return executor(over).execute(action, ctx);
    }

    it('downloads a part by its signed URL without credentials; changed, expired or gone is refused', async () => {
      clock = Date.now();
      const a = await app();
      const id = await store(s.storage, s.parser, Buffer.from(MAIL));
      bodies.length = 0;
      replies = [200];
      const action: WebhookAction = {
        type: 'webhook',
        url: `http://hook.test:${port}/in`,
        attachments: 'url',
      };
      assert.equal((await run(id, action)).outcome, 'succeeded');
      const payload = JSON.parse(bodies[0] ?? '{}') as InboundPayload;
      const [attachment] = payload.Attachments;
      assert.ok(attachment?.URL, bodies[0]);
      assert.equal(attachment.URLError, undefined);
      const url = new URL(attachment.URL);
      assert.equal(url.origin, 'https://mail.example.test');
      const path = `${url.pathname}${url.search}`;
      assert.equal(url.pathname, `/api/v1/inbound/attachments/${id}/${attachment.PartID}`);

      // The API wants the token; the download does not.
      assert.equal((await a.request('/api/v1/messages')).status, 401);
      const res = await a.request(path);
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), PDF);
      assert.equal(res.headers.get('Content-Type'), 'application/pdf');
      assert.equal(
        res.headers.get('Content-Disposition'),
        `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
      );
      assert.equal(res.headers.get('X-Content-Type-Options'), 'nosniff');
      assert.equal(res.headers.get('Cache-Control'), 'private');

      const problem = async (p: string, status: number) => {
        const r = await a.request(p);
        assert.equal(r.status, status, p);
        assert.match(r.headers.get('Content-Type') ?? '', /application\/problem\+json/);
        return (await r.json()) as { detail: string };
      };
      const expires = Number(url.searchParams.get('expires'));
      const sig = url.searchParams.get('sig') ?? '';
      const base = `/api/v1/inbound/attachments/${id}`;
      await problem(`${base}/9?expires=${expires}&sig=${sig}`, 403);
      await problem(`${base}/${attachment.PartID}?expires=${expires + 60}&sig=${sig}`, 403);
      await problem(`${base}/${attachment.PartID}?expires=${expires}`, 403);
      await problem(
        `/api/v1/inbound/attachments/latest/${attachment.PartID}?expires=${expires}&sig=${sig}`,
        403,
      );

      clock += 7 * DAY;
      assert.match((await problem(path, 403)).detail, /expired/);
      clock -= 7 * DAY;
      await s.storage.delete([id]);
      await problem(path, 404);
    });

    it('a signed part that is not there is a 404, and without a key the route is off', async () => {
      clock = Date.now();
      const id = await store(s.storage, s.parser, Buffer.from(MAIL));
      const signed = new URL(
        attachmentUrl({ baseUrl: 'https://x.test', secret: KEY, lifetimeMs: DAY }, id, '7', clock),
      );
      const a = await app();
      assert.equal((await a.request(`${signed.pathname}${signed.search}`)).status, 404);
      // The suite's own app has no key: no URL is accepted.
      assert.equal((await s.get(`${signed.pathname}${signed.search}`)).status, 404);
    });

    it('says why there are no URLs when the server lacks the settings', async () => {
      clock = Date.now();
      const id = await store(s.storage, s.parser, Buffer.from(MAIL));
      bodies.length = 0;
      replies = [200];
      const action: WebhookAction = {
        type: 'webhook',
        url: `http://hook.test:${port}/plain`,
        attachments: 'url',
      };
      const off = attachmentUrlsFromConfig({
        publicUrl: '',
        attachmentUrlSecret: KEY,
        attachmentUrlLifetime: DAY,
      });
      assert.equal((await run(id, action, { attachmentUrls: off })).outcome, 'succeeded');
      const [attachment] = (JSON.parse(bodies[0] ?? '{}') as InboundPayload).Attachments;
      assert.equal(attachment?.URL, undefined);
      assert.match(attachment?.URLError ?? '', /--public-url not set/);
    });

    it('disables a failing URL, lists it and enables it again; read tokens may only look', async () => {
      clock = Date.now();
      const a = await app();
      const id = await store(s.storage, s.parser, Buffer.from(MAIL));
      const hook = `http://hook.test:${port}/failing`;
      const action: WebhookAction = { type: 'webhook', url: hook, attachments: 'none' };
      replies = [500];
      assert.equal((await run(id, action)).outcome, 'retry');
      assert.equal((await run(id, action)).outcome, 'retry');
      const sent = bodies.length;
      const refused = await run(id, action);
      assert.equal(refused.outcome, 'failed');
      assert.equal(bodies.length, sent);

      const list = await a.request('/api/v1/webhooks/endpoints', { headers: bearer(READ_ONLY) });
      assert.equal(list.status, 200);
      const { endpoints } = webhookEndpointList.parse(await list.json());
      const mine = endpoints.find((e) => e.URL === hook);
      assert.equal(mine?.State, 'disabled');
      assert.equal(mine?.ConsecutiveFailures, 2);
      assert.match(mine?.LastError ?? '', /500/);

      const routing = await json<{ Events: { Type: string; Data: Record<string, unknown> }[] }>(
        await a.request(`/api/v1/message/${id}/routing`, { headers: bearer(TOKEN) }),
      );
      const disabled = routing.Events.filter((e) => e.Type === 'webhook:disabled');
      assert.equal(disabled.length, 1);
      assert.deepEqual(disabled[0]?.Data, { url: hook, failures: 2, lastError: mine?.LastError });

      const enable = (token: string, body: unknown) =>
        a.request('/api/v1/webhooks/endpoints/enable', {
          method: 'POST',
          headers: { ...bearer(token), 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      assert.equal((await enable(READ_ONLY, { URL: hook })).status, 403);
      const unknown = await enable(TOKEN, { URL: 'https://never.example/hook' });
      assert.equal(unknown.status, 404);
      assert.match(unknown.headers.get('Content-Type') ?? '', /application\/problem\+json/);
      assert.equal((await enable(TOKEN, { Url: hook })).status, 400);
      const enabled = await enable(TOKEN, { URL: hook });
      assert.equal(enabled.status, 200);
      const after = webhookEndpointShape.parse(await enabled.json());
      assert.equal(after.State, 'enabled');
      assert.equal(after.ConsecutiveFailures, 0);

      replies = [200];
      assert.equal((await run(id, action)).outcome, 'succeeded');
      assert.equal(bodies.length, sent + 1);

      const doc = (await (await a.request('/api/v1/openapi.json', { headers: bearer(TOKEN) })).json()) as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      assert.deepEqual(
        [
          doc.paths['/api/v1/webhooks/endpoints']?.get?.operationId,
          doc.paths['/api/v1/webhooks/endpoints/enable']?.post?.operationId,
          doc.paths['/api/v1/inbound/attachments/{ID}/{PartID}']?.get?.operationId,
        ],
        ['ListWebhookEndpoints', 'EnableWebhookEndpoint', 'DownloadInboundAttachment'],
      );
    });
  });
}
