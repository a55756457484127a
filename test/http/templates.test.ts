// Stored templates: CRUD, preview with sample data, and sending with one, against every backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rendered, template, templateList } from '../../src/http/routes/templates/schema.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { backendSuite, json } from './helpers.ts';

const WELCOME = {
  Subject: 'Welcome, {{name}}!',
  Text: 'Hello {{name}}, your code is {{code}}.',
  HTML: '<p>Hello {{name}}, your code is <b>{{code}}</b>.</p>{{{footer}}}',
};

for (const backend of BACKENDS) {
  describe(`templates API: ${backend.name}`, () => {
    const s = backendSuite(backend);

    it('stores, lists, previews and deletes a template', async () => {
      const saved = await s.send('PUT', '/api/v1/templates/welcome', WELCOME);
      assert.equal(saved.status, 200);
      assert.equal(template.parse(await json(saved)).Name, 'welcome');
      const list = templateList.parse(await json(await s.get('/api/v1/templates')));
      assert.ok(list.templates.some((t) => t.Name === 'welcome'));
      const preview = rendered.parse(
        await json(
          await s.send('POST', '/api/v1/templates/welcome/preview', {
            Data: { name: 'Zoë <script>', code: '42 & up', footer: '<hr>' },
          }),
        ),
      );
      // Values are escaped in the HTML only; triple braces are the author's raw HTML.
      assert.equal(preview.Subject, 'Welcome, Zoë <script>!');
      assert.equal(preview.Text, 'Hello Zoë <script>, your code is 42 & up.');
      assert.equal(preview.HTML, '<p>Hello Zoë &lt;script&gt;, your code is <b>42 &amp; up</b>.</p><hr>');
      assert.equal((await s.t.app.request('/api/v1/templates/welcome', { method: 'DELETE' })).status, 200);
      assert.equal((await s.get('/api/v1/templates/welcome')).status, 404);
      assert.equal((await s.send('POST', '/api/v1/templates/welcome/preview', {})).status, 404);
    });

    it('refuses a template that does not compile, a bad name, or one with no body', async () => {
      const broken = await s.send('PUT', '/api/v1/templates/broken', { Subject: 'Hi {{name', Text: 'x' });
      assert.equal(broken.status, 400);
      assert.match(String((await json(broken)).detail), /does not compile: subject/);
      assert.equal((await s.send('PUT', '/api/v1/templates/..%2Fetc', WELCOME)).status, 400);
      assert.equal((await s.send('PUT', '/api/v1/templates/empty', { Subject: 'x' })).status, 400);
    });

    it('sends with a template, its data escaped in the HTML, a line break kept out of the subject', async () => {
      await s.send('PUT', '/api/v1/templates/welcome', WELCOME);
      const res = await s.send('POST', '/api/v1/send', {
        From: { Email: 'app@shop.example' },
        To: [{ Email: 'ann@one.example' }],
        Template: 'welcome',
        TemplateData: { name: 'Ann\r\nBcc: victim@evil.example', code: '<b>7</b>' },
      });
      assert.equal(res.status, 200);
      const { ID } = await json<{ ID: string }>(res);
      const raw = Buffer.from((await s.storage.outbound.raw(ID))!).toString('latin1');
      assert.match(raw, /^Subject: Welcome, Ann Bcc: victim@evil\.example!\r$/m);
      // In the body the words are only text; no header of that name appears.
      assert.doesNotMatch(raw.slice(0, raw.indexOf('\r\n\r\n')), /^Bcc:/m);
      assert.match(raw, /&lt;b&gt;7&lt;\/b&gt;/);
      assert.deepEqual((await s.storage.outbound.get(ID))?.rcptTo, ['ann@one.example']);

      for (const [body, detail] of [
        [{ Template: 'nope' }, /Template "nope" does not exist/],
        [{ Template: 'welcome', Subject: 'also' }, /Subject: comes from the Template/],
        [{ TemplateData: { a: 1 } }, /TemplateData: needs Template/],
      ] as const) {
        const r = await s.send('POST', '/api/v1/send', {
          From: { Email: 'app@shop.example' },
          To: [{ Email: 'a@b.example' }],
          ...body,
        });
        assert.equal(r.status, 400);
        assert.match(String((await json(r)).detail), detail);
      }
    });
  });
}
