// Liquid templates beside Handlebars: stored with their engine, HTML-escaped in the HTML part only,
// no file system to reach, syntax errors with their position, bounded renders, and sending.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import PostalMime from 'postal-mime';
import { rendered, template, templateList } from '../../src/http/routes/templates/schema.ts';
import { renderTemplate } from '../../src/outbound/templates.ts';
import { readMigrations } from '../../src/storage/migrations.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { BACKENDS, freshPostgresDatabase, tempDir } from '../helpers/backends.ts';
import { backendSuite, json } from './helpers.ts';

const ORDER = {
  Engine: 'liquid',
  Subject: 'Order {{ order.id }} for {{ name | capitalize }}',
  Text: '{% for item in order.items %}{{ forloop.index }}. {{ item.title }} x{{ item.qty }}\n{% endfor %}Total: {{ order.total | times: 1.0 | round: 2 }}{{ missing }}',
  HTML: '<ul>{% for item in order.items %}<li>{{ item.title | upcase }}</li>{% endfor %}</ul>{{ note }}|{{ footer | raw }}{{ missing.deeper }}',
};

const DATA = {
  name: 'zoë <script>',
  note: 'Tom & "Jerry" <b>',
  footer: '<hr>',
  order: {
    id: 'A-7',
    total: 12.5,
    items: [
      { title: 'Fish & chips', qty: 2 },
      { title: '<i>tea</i>', qty: 1 },
    ],
  },
};

/** A secret outside the store that a template could try to read from disk. */
function fileOnDisk(): { dir: string; name: string } {
  const dir = tempDir('mailroom-liquid-');
  fs.writeFileSync(path.join(dir, 'secret.liquid'), 'TOP-SECRET');
  fs.writeFileSync(path.join(dir, 'secret'), 'TOP-SECRET');
  return { dir, name: path.join(dir, 'secret') };
}

for (const backend of BACKENDS) {
  describe(`Liquid templates: ${backend.name}`, () => {
    const s = backendSuite(backend);

    const preview = async (name: string, Data: unknown) =>
      s.send('POST', `/api/v1/templates/${name}/preview`, { Data });

    it('stores the engine, renders loops and filters, escapes values in the HTML only', async () => {
      const saved = await s.send('PUT', '/api/v1/templates/order', ORDER);
      assert.equal(saved.status, 200);
      assert.equal(template.parse(await json(saved)).Engine, 'liquid');
      assert.equal(template.parse(await json(await s.get('/api/v1/templates/order'))).Engine, 'liquid');
      const list = templateList.parse(await json(await s.get('/api/v1/templates')));
      assert.equal(list.templates.find((t) => t.Name === 'order')?.Engine, 'liquid');

      const res = await preview('order', DATA);
      assert.equal(res.status, 200);
      const r = rendered.parse(await json(res));
      // Subject and text as written, missing variables as nothing.
      assert.equal(r.Subject, 'Order A-7 for Zoë <script>');
      assert.equal(r.Text, '1. Fish & chips x2\n2. <i>tea</i> x1\nTotal: 12.5');
      // Every value escaped in the HTML, the one marked raw excepted.
      assert.equal(
        r.HTML,
        '<ul><li>FISH &amp; CHIPS</li><li>&lt;I&gt;TEA&lt;/I&gt;</li></ul>Tom &amp; &#34;Jerry&#34; &lt;b&gt;|<hr>',
      );
    });

    it('keeps Handlebars the default, and changes engine when a template is saved again', async () => {
      const hbs = { Subject: 'Hi {{name}}', HTML: '<p>{{name}}</p>' };
      const saved = template.parse(await json(await s.send('PUT', '/api/v1/templates/greet', hbs)));
      assert.equal(saved.Engine, 'handlebars');
      const asHbs = rendered.parse(await json(await preview('greet', { name: '<Ann>' })));
      assert.equal(asHbs.HTML, '<p>&lt;Ann&gt;</p>');

      // The same source read as Liquid: "{{name}}" is a Liquid output too, "{{ name | upcase }}" only Liquid.
      const liquid = { Engine: 'liquid', Subject: 'Hi {{ name | upcase }}', HTML: '<p>{{name}}</p>' };
      assert.equal((await s.send('PUT', '/api/v1/templates/greet', liquid)).status, 200);
      const asLiquid = rendered.parse(await json(await preview('greet', { name: '<Ann>' })));
      assert.equal(asLiquid.Subject, 'Hi <ANN>');
      assert.equal(asLiquid.HTML, '<p>&lt;Ann&gt;</p>');
      // The filter syntax is not Handlebars: saving it as Handlebars is refused.
      const refused = await s.send('PUT', '/api/v1/templates/greet', { ...liquid, Engine: 'handlebars' });
      assert.equal(refused.status, 400);
      assert.equal(
        (await s.send('PUT', '/api/v1/templates/greet', { ...liquid, Engine: 'mustache' })).status,
        400,
      );
    });

    it('refuses a syntax error with its part, line and column', async () => {
      const cases = [
        [{ Subject: 'Hi {{ name', Text: 'x' }, /does not compile: subject: line 1, column 4: .*not closed/],
        [
          { Subject: 'Hi', Text: 'one\ntwo {% for x in list %}\nthree' },
          /does not compile: text: line 2, column 5: tag \{% for x in list %\} not closed/,
        ],
        [{ Subject: 'Hi', HTML: '<p>\n\n  {% frobnicate %}</p>' }, /html: line 3, column 3: .*frobnicate/],
        // A filter that does not exist is caught when saved, not skipped when sent.
        [{ Subject: 'Hi {{ name | shout }}', Text: 'x' }, /subject: line 1, column 4: .*shout/],
      ] as const;
      for (const [body, detail] of cases) {
        const res = await s.send('PUT', '/api/v1/templates/broken', { Engine: 'liquid', ...body });
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.match(String((await json(res)).detail), detail);
      }
      assert.equal((await s.get('/api/v1/templates/broken')).status, 404);
    });

    it('reads nothing from disk: include, render and layout are refused', async () => {
      const secret = fileOnDisk();
      try {
        for (const tag of [
          `{% include '${secret.name}' %}`,
          `{% render '${secret.name}' %}`,
          `{% layout '${secret.name}' %}body`,
          "{% include 'secret' %}",
        ]) {
          const res = await s.send('PUT', '/api/v1/templates/sneaky', {
            Engine: 'liquid',
            Subject: 'Hi',
            HTML: `<p>${tag}</p>`,
          });
          assert.equal(res.status, 400, tag);
          const detail = String((await json(res)).detail);
          assert.match(detail, /html: line 1, column 4: tag "(include|render|layout)" not found/);
          assert.doesNotMatch(detail, /TOP-SECRET/);
        }
        assert.equal((await s.get('/api/v1/templates/sneaky')).status, 404);
      } finally {
        fs.rmSync(secret.dir, { recursive: true, force: true });
      }
    });

    it('stops a render that blows up, with a clear error, in preview and in send', async () => {
      const bombs = {
        // Three nested loops would write 10^9 copies: the output cap ends it.
        loops: {
          Subject: 'Hi',
          Text: '{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}{{ pad }}{% endfor %}{% endfor %}{% endfor %}',
          limit: /output limit exceeded/,
        },
        // A range of a hundred million elements is refused before it is made.
        range: {
          Subject: 'Hi',
          HTML: '{% for a in (1..100000000) %}x{% endfor %}',
          limit: /memory alloc limit exceeded/,
        },
        // Doubling a string: filters count what they allocate.
        doubling: {
          Subject: 'Hi',
          HTML: '{% assign s = "xxxxxxxx" %}{% for i in (1..60) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}',
          limit: /memory alloc limit exceeded/,
        },
      };
      for (const [name, { limit, ...body }] of Object.entries(bombs)) {
        // Valid syntax: the template is stored, and refused when rendered.
        assert.equal(
          (await s.send('PUT', `/api/v1/templates/${name}`, { Engine: 'liquid', ...body })).status,
          200,
        );
        const res = await preview(name, { pad: 'x'.repeat(100) });
        assert.equal(res.status, 400, name);
        const detail = String((await json(res)).detail);
        const part = 'Text' in body ? 'text' : 'html';
        assert.match(
          detail,
          new RegExp(`Template "${name}" could not be rendered: ${part}: line 1, column \\d+: `),
        );
        assert.match(detail, limit);

        const sent = await s.send('POST', '/api/v1/send', {
          From: { Email: 'app@shop.example' },
          To: [{ Email: 'ann@one.example' }],
          Template: name,
          TemplateData: { pad: 'x'.repeat(100) },
        });
        assert.equal(sent.status, 400, name);
        assert.match(String((await json(sent)).detail), limit);
      }
    });

    it('sends with a Liquid template: subject, text and HTML rendered, values escaped in the HTML', async () => {
      await s.send('PUT', '/api/v1/templates/order', ORDER);
      const res = await s.send('POST', '/api/v1/send', {
        From: { Email: 'app@shop.example' },
        To: [{ Email: 'ann@one.example' }],
        Template: 'order',
        TemplateData: { ...DATA, name: 'ann\r\nBcc: victim@evil.example' },
      });
      assert.equal(res.status, 200);
      const { ID } = await json<{ ID: string }>(res);
      const raw = Buffer.from((await s.storage.outbound.raw(ID))!);
      const head = raw.toString('latin1').slice(0, raw.indexOf('\r\n\r\n'));
      // A line break in a value stays out of the headers.
      assert.doesNotMatch(head, /^bcc:/im);
      const email = await PostalMime.parse(raw);
      assert.equal(email.subject, 'Order A-7 for Ann bcc: victim@evil.example');
      // (Each part ends with the line break the composer adds.)
      assert.equal(email.text?.trimEnd(), '1. Fish & chips x2\n2. <i>tea</i> x1\nTotal: 12.5');
      assert.equal(
        email.html?.trimEnd(),
        '<ul><li>FISH &amp; CHIPS</li><li>&lt;I&gt;TEA&lt;/I&gt;</li></ul>Tom &amp; &#34;Jerry&#34; &lt;b&gt;|<hr>',
      );
    });
  });
}

const STORAGE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/storage');
/** Every migration but the one that adds the engine: a store as a Mailroom without Liquid left it. */
const withoutEngineColumn = (engine: 'sqlite' | 'postgres') =>
  readMigrations(path.join(STORAGE, engine, 'migrations')).filter((m) => m.name !== 'template_engine');
const OLD_ROW = `INSERT INTO templates (name, subject, text_body, html_body, updated_at)
  VALUES ('old', 'Hi {{name}}', '', '<p>{{name}}</p>', '2024-01-01T00:00:00.000Z')`;

async function upgradedTemplate(storage: Storage): Promise<void> {
  const old = await storage.outbound.template('old');
  assert.equal(old?.engine, 'handlebars');
  assert.equal(renderTemplate(old!, { name: '<Ann>' }).html, '<p>&lt;Ann&gt;</p>');
  // The new column takes a Liquid template too.
  await storage.outbound.saveTemplate({
    ...old!,
    name: 'new',
    engine: 'liquid',
    updatedAt: new Date(0).toISOString(),
  });
  assert.equal((await storage.outbound.template('new'))?.engine, 'liquid');
}

describe('templates stored before Liquid', () => {
  it('sqlite: read back as Handlebars once the engine column is added', async () => {
    const dir = tempDir();
    const db = new DatabaseSync(path.join(dir, 'mailroom.db'));
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of withoutEngineColumn('sqlite')) {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2024-01-01')").run(m.version, m.name);
    }
    db.exec(OLD_ROW);
    db.close();
    const storage = await SqliteStorage.open(dir);
    try {
      await upgradedTemplate(storage);
    } finally {
      await storage.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres: read back as Handlebars once the engine column is added', async () => {
    const db = await freshPostgresDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)',
      );
      for (const m of withoutEngineColumn('postgres')) {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations VALUES ($1, $2, now())', [m.version, m.name]);
      }
      await client.query(OLD_ROW);
    } finally {
      await client.end();
    }
    const storage = await PostgresStorage.open(db.url);
    try {
      await upgradedTemplate(storage);
    } finally {
      await storage.close();
      await db.drop();
    }
  });
});
