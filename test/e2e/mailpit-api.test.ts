// Mailpit compatibility, end to end: a real Mailroom process receives mail over SMTP (nodemailer)
// and the `mailpit-api` npm client — the one existing Mailpit users and CI plugins run — drives
// every endpoint it offers that Mailroom implements. Responses are also checked against the
// shapes the OpenAPI document is generated from.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import nodemailer from 'nodemailer';
import sharp from 'sharp';
import * as shapes from '../../src/http/openapi/shapes.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';

const PNG = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3366cc' } })
  .png()
  .toBuffer();

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`mailpit-api client against Mailroom: ${engine}`, () => {
    let server: MailroomOnEngine;
    let mailpit: MailpitClient;

    before(async () => {
      server = await mailroomOn(engine);
      mailpit = new MailpitClient(`http://127.0.0.1:${server.httpPort}`);
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: server.smtpPort,
        secure: false,
        ignoreTLS: true,
      });
      await transport.sendMail({
        from: 'Shop <orders@shop.example>',
        to: 'Ann <ann+receipts@example.test>',
        bcc: 'audit@example.test',
        subject: 'Your order confirmation',
        text: 'Thank you for ordering. Your code is 123456.',
        html: '<p>Thank you for <b>ordering</b>.</p><img src="cid:logo@shop"><img src="https://tracker.example/p.gif">',
        headers: { 'X-Tags': 'orders, Receipts', 'X-Campaign': 'spring sale' },
        attachments: [
          { filename: 'logo.png', content: PNG, cid: 'logo@shop' },
          { filename: 'photo.png', content: PNG },
          { filename: 'notes.txt', content: 'plain notes' },
        ],
      });
      await transport.sendMail({
        from: 'security@example.fr',
        to: 'bob@example.test',
        subject: 'Réinitialiser le mot de passe',
        text: 'Cliquez ici.',
      });
      transport.close();
      // Both are parsed and indexed within moments; waitForMessage polls the search endpoint.
      await mailpit.waitForMessage({ query: 'subject:réinitialiser' }, { timeout: 10_000 });
      await mailpit.waitForMessage({ query: 'tag:orders' }, { timeout: 10_000 });
    });

    after(async () => {
      await server?.dispose();
    });

    it('lists messages in the MessagesSummary shape', async () => {
      const list = await mailpit.listMessages();
      shapes.messagesSummary.parse(list);
      assert.equal(list.total, 2);
      assert.equal(list.messages_count, 2);
      assert.deepEqual(
        list.messages.map((m) => m.Subject),
        ['Réinitialiser le mot de passe', 'Your order confirmation'],
      );
      // X-Tags and the +receipts address name the same tag; the first spelling is kept.
      assert.deepEqual(list.tags, ['orders', 'Receipts']);
      const order = list.messages[1]!;
      assert.equal(order.Attachments, 2);
      assert.ok(order.Tags.includes('orders') && order.Tags.includes('Receipts'));
      const paged = await mailpit.listMessages(1, 1);
      assert.equal(paged.start, 1);
      assert.deepEqual(
        paged.messages.map((m) => m.ID),
        [order.ID],
      );
    });

    it('returns a message, its headers, source, parts and thumbnails', async () => {
      const m = await mailpit.getMessageSummary();
      shapes.message.parse(m);
      assert.equal(m.Subject, 'Réinitialiser le mot de passe');
      const order = (await mailpit.searchMessages({ query: 'from:shop.example' })).messages[0]!;
      const full = await mailpit.getMessageSummary(order.ID);
      shapes.message.parse(full);
      assert.deepEqual(full.Attachments.map((a) => a.FileName).sort(), ['notes.txt', 'photo.png']);
      assert.deepEqual(
        full.Inline.map((a) => a.FileName),
        ['logo.png'],
      );
      // The Bcc recipient is only in the envelope.
      assert.ok(
        (full as unknown as { Envelope: { RcptTo: string[] } }).Envelope.RcptTo.includes(
          'audit@example.test',
        ),
      );
      const headers = await mailpit.getMessageHeaders(order.ID);
      shapes.headers.parse(headers);
      assert.deepEqual(headers['X-Campaign'], ['spring sale']);
      const source = await mailpit.getMessageSource(order.ID);
      assert.match(source, /^Subject: Your order confirmation\r?$/m);
      const photo = full.Attachments.find((a) => a.FileName === 'photo.png')!;
      const blob = await mailpit.getMessageAttachment(order.ID, photo.PartID);
      assert.deepEqual(Buffer.from(await blob.arrayBuffer()), PNG);
      const thumb = Buffer.from(
        await (await mailpit.getAttachmentThumbnail(order.ID, photo.PartID)).arrayBuffer(),
      );
      const meta = await sharp(thumb).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 180, 120]);
      const notes = full.Attachments.find((a) => a.FileName === 'notes.txt')!;
      const blank = await sharp(
        Buffer.from(await (await mailpit.getAttachmentThumbnail(order.ID, notes.PartID)).arrayBuffer()),
      ).stats();
      assert.ok(
        blank.channels.every((ch) => ch.min > 240),
        'a non-image gets a blank white thumbnail',
      );
      await assert.rejects(mailpit.getMessageSummary('NoSuchMessageId0000000'), /404/);
      // As Mailpit: an unknown part is a 404 for the part and a 400 for its thumbnail.
      await assert.rejects(mailpit.getMessageAttachment(order.ID, '9.9'), /404/);
      await assert.rejects(mailpit.getAttachmentThumbnail(order.ID, '9.9'), /400/);
      await assert.rejects(mailpit.getAttachmentThumbnail('NoSuchMessageId0000000', '1'), /400/);
    });

    it('renders the HTML and text views', async () => {
      const order = (await mailpit.searchMessages({ query: 'subject:order' })).messages[0]!;
      const html = await mailpit.renderMessageHTML(order.ID);
      assert.match(html, /<p>Thank you for <b>ordering<\/b>\.<\/p>/);
      assert.match(html, /src="data:image\/png;base64,/, 'cid: images become data: URLs');
      const res = await fetch(`http://127.0.0.1:${server.httpPort}/view/${order.ID}.html?embed=1`);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*sandbox/);
      assert.equal(res.headers.get('x-mailroom-remote-blocked'), '1');
      assert.match(await res.text(), /<base target="_blank">/);
      assert.equal(
        (await mailpit.renderMessageText(order.ID)).trim(),
        'Thank you for ordering. Your code is 123456.',
      );
    });

    it('searches with Mailpit syntax and reports matching counts', async () => {
      const check = async (query: string, subjects: string[]) => {
        const r = await mailpit.searchMessages({ query });
        shapes.messagesSummary.parse(r);
        assert.deepEqual(r.messages.map((m) => m.Subject).sort(), subjects.sort(), query);
        assert.equal(r.messages_count, subjects.length, query);
        assert.equal(r.total, 2);
      };
      await check('ordering', ['Your order confirmation']);
      await check('REINITIALISER', ['Réinitialiser le mot de passe']);
      await check('-has:attachment', ['Réinitialiser le mot de passe']);
      await check('header:X-Campaign:spring', ['Your order confirmation']);
      await check('tag:receipts', ['Your order confirmation']);
      await check(
        'is:unread',
        (await mailpit.searchMessages({ query: 'is:unread' })).messages.map((m) => m.Subject),
      );
      await assert.rejects(mailpit.searchMessages({ query: 'before:not-a-date' }), /400/);
      // As Mailpit: a search without a query is a 400, not the whole mailbox.
      await assert.rejects(mailpit.searchMessages({ query: ' ' }), /400/);
    });

    it('sets read state by IDs and by search', async () => {
      await mailpit.setReadStatus({ Read: false });
      assert.equal((await mailpit.listMessages()).unread, 2);
      await mailpit.setReadStatus({ Search: 'from:shop.example', Read: true });
      const list = await mailpit.listMessages();
      assert.equal(list.unread, 1);
      const unread = list.messages.find((m) => !m.Read)!;
      await mailpit.setReadStatus({ IDs: [unread.ID], Read: true });
      assert.equal((await mailpit.listMessages()).unread, 0);
    });

    it('sets, renames and deletes tags', async () => {
      const order = (await mailpit.searchMessages({ query: 'subject:order' })).messages[0]!;
      await mailpit.setTags({ IDs: [order.ID], Tags: ['Important', 'orders'] });
      assert.deepEqual((await mailpit.getMessageSummary(order.ID)).Tags, ['Important', 'orders']);
      await mailpit.renameTag('Important', 'Urgent');
      assert.deepEqual(await mailpit.getTags(), ['orders', 'Urgent']);
      await mailpit.deleteTag('Urgent');
      assert.deepEqual(await mailpit.getTags(), ['orders']);
      await assert.rejects(mailpit.deleteTag('Urgent'), /400/);
      const info = await mailpit.getInfo();
      shapes.appInfo.parse(info);
      assert.deepEqual(info.Tags, { orders: 1 });
    });

    it('serves info, web UI settings and its OpenAPI document', async () => {
      const info = await mailpit.getInfo();
      assert.equal(info.Messages, 2);
      const ui = await mailpit.getConfiguration();
      shapes.webUiConfig.parse(ui);
      assert.equal(ui.SpamAssassin, false);
      await assert.rejects(mailpit.spamAssassinCheck(), /404/);
      const doc = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { operationId: string }>>;
      };
      assert.equal(doc.paths['/api/v1/search']?.get?.operationId, 'Search');
      assert.equal(doc.paths['/api/v1/tags/{Tag}']?.put?.operationId, 'RenameTag');
    });

    it('deletes by search, by IDs and all', async () => {
      await mailpit.deleteMessagesBySearch({ query: 'from:security@example.fr' });
      const left = await mailpit.listMessages();
      assert.deepEqual(
        left.messages.map((m) => m.Subject),
        ['Your order confirmation'],
      );
      await mailpit.deleteMessages({ IDs: [left.messages[0]!.ID] });
      assert.equal((await mailpit.listMessages()).total, 0);
      await mailpit.deleteMessages();
      assert.deepEqual(await mailpit.getTags(), []);
    });
  });
}
