// Hostile mail against the web inbox in a real Chromium: scripts, event handlers, javascript:
// links (clicked), SVG script, meta refresh, auto-submitting forms, frames, <base>, CSS url()
// and remote images, all pointing at a local canary HTTP server. Nothing may run, navigate, post
// or load — remote images only once the reader asks — and the UI's own page must stay untouched.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import {
  collectErrors,
  launchBrowser,
  newPage,
  screenshot,
  sendMail,
  startMailroom,
  type UiServer,
  waitForCount,
} from './helpers/browser.ts';
import type { PageValue } from './helpers/page-types.ts';
import { listAll, until } from './helpers/wait.ts';

// Page globals used inside page.evaluate() callbacks (see helpers/page-types.ts).
declare const document: PageValue;
declare const window: PageValue;

/** A local HTTP server that records every request it gets. */
async function startCanary(): Promise<{ server: Server; origin: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'image/gif', 'Access-Control-Allow-Origin': '*' });
    res.end(Buffer.from('R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==', 'base64'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, hits };
}

/** Globals a successful attack would set, in the frame or (through parent/top) in the UI. */
const MARKERS = [
  '__xss',
  '__xss_onerror',
  '__xss_onload',
  '__xss_js',
  '__xss_svg',
  '__xss_srcdoc',
  '__xss_form',
];

function corpus(c: string): { subject: string; html: string; clicks: string[] }[] {
  const set = (name: string) =>
    `window.${name}=1;try{parent.${name}=1;top.${name}=1;top.document.title='pwned';top.location='${c}/toplocation'}catch(e){};` +
    `fetch('${c}/${name}').catch(function(){});new Image().src='${c}/${name}.img'`;
  const ready = '<p id="ready">ready</p>';
  return [
    {
      subject: 'XSS script tags',
      html: `<html><head><script>${set('__xss')}</script></head><body>${ready}<script src="${c}/external.js"></script><script>alert(1);confirm(2);prompt(3)</script></body></html>`,
      clicks: [],
    },
    {
      subject: 'XSS event handlers',
      html: `<body onload="${set('__xss_onload')}">${ready}<img src="x" onerror="${set('__xss_onerror')}"><div id="hover" onmouseover="${set('__xss_onload')}" onclick="${set('__xss_onload')}">hover me</div><details open ontoggle="${set('__xss_onload')}"><summary>x</summary></details><input autofocus onfocus="${set('__xss_onload')}"></body>`,
      clicks: ['#hover'],
    },
    {
      subject: 'XSS javascript links',
      html: `${ready}<a id="js1" href="javascript:${set('__xss_js')}">js link</a> <a id="js2" target="_top" href="javascript:${set('__xss_js')}">js top link</a> <a id="js3" href="  JaVaScRiPt:${set('__xss_js')}">spaced</a> <a id="data" href="data:text/html,<script>${set('__xss_js')}</script>">data link</a>`,
      // The data: link is not clicked: Chrome refuses top-level data: navigation outright, and
      // the blank window that refusal leaves behind throttles the test page for the rest of the run.
      clicks: ['#js1', '#js2', '#js3'],
    },
    {
      subject: 'XSS inline SVG',
      html: `${ready}<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" onload="${set('__xss_svg')}"><script>${set('__xss_svg')}</script><a href="javascript:${set('__xss_svg')}"><rect id="svgrect" width="50" height="50" fill="red"/></a><animate onbegin="${set('__xss_svg')}" attributeName="x" dur="1s"/></svg><img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='${set('__xss_svg')}'/>">`,
      clicks: ['#svgrect'],
    },
    {
      subject: 'XSS meta refresh',
      html: `<html><head><meta http-equiv="refresh" content="0;url=${c}/refresh"><meta http-equiv="Refresh" content="0; URL='javascript:${set('__xss')}'"></head><body>${ready}</body></html>`,
      clicks: [],
    },
    {
      subject: 'XSS forms',
      html: `${ready}<form id="f" action="${c}/form" method="post"><input name="a" value="1"><button id="submit" type="submit">Send</button></form><form action="javascript:${set('__xss_form')}"><button id="jsubmit">Go</button></form><script>document.getElementById('f').submit()</script>`,
      clicks: ['#submit', '#jsubmit'],
    },
    {
      subject: 'XSS frames and objects',
      html: `${ready}<iframe src="${c}/iframe"></iframe><iframe srcdoc="<script>${set('__xss_srcdoc')}</script>"></iframe><object data="${c}/object"></object><embed src="${c}/embed"><frameset><frame src="${c}/frame"></frameset>`,
      clicks: [],
    },
    {
      subject: 'XSS base href',
      html: `<html><head><base href="${c}/base/"></head><body>${ready}<a id="rel" href="relative-link">relative</a><img src="relative.png"><link rel="stylesheet" href="relative.css"></body></html>`,
      clicks: ['#rel'],
    },
    {
      subject: 'XSS CSS urls',
      html: `<html><head><style>@import url("${c}/css-import.css"); body { background: url('${c}/css-background.png') } @font-face { font-family: x; src: url(${c}/css-font.woff) } p { font-family: x }</style><link rel="stylesheet" href="${c}/link.css"><link rel="prefetch" href="${c}/prefetch"><link rel="preload" as="image" href="${c}/preload.png"></head><body>${ready}<div style="width:10px;height:10px;background-image:url(${c}/css-inline.png)"></div></body></html>`,
      clicks: [],
    },
    {
      subject: 'XSS remote images',
      html: `${ready}<p>Tracking pixel below.</p><img src="${c}/remote-image.png" width="1" height="1"><img srcset="${c}/remote-srcset.png 1x"><picture><source srcset="${c}/remote-source.png"><img src="x.png"></picture><video poster="${c}/remote-poster.png"></video><table background="${c}/remote-table.png"><tr><td>t</td></tr></table>`,
      clicks: [],
    },
  ];
}

/**
 * Waits until a frame has loaded (every subresource fetched or blocked) and is complete, by which
 * time a zero-delay refresh or an auto-submit would have begun (the URL checks then see it).
 */
async function settle(frame: Frame): Promise<void> {
  await frame.waitForLoadState('load');
  // Polled on a timer: a page behind a popup gets no animation frames. (The frame's own timers
  // never fire: scripts are off in the sandbox, so nothing may wait on them.)
  await frame.waitForFunction(() => document.readyState === 'complete', undefined, { polling: 50 });
}

describe('hostile HTML in the web inbox (Chromium)', () => {
  let srv: UiServer;
  let browser: Browser;
  let canary: Awaited<ReturnType<typeof startCanary>>;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const dialogs: string[] = [];
  const popups: string[] = [];
  let messages: { subject: string; html: string; clicks: string[] }[] = [];
  let baseline: { globals: string[]; scripts: number; head: string; title: string };

  before(async () => {
    [srv, browser, canary] = await Promise.all([startMailroom(), launchBrowser(), startCanary()]);
    messages = corpus(canary.origin);
    for (const m of messages) {
      await sendMail(srv.mailroom.smtpPort, {
        subject: m.subject,
        html: m.html,
        text: `${m.subject} (text part)`,
      });
    }
    // Hostile names and subjects, shown as text.
    await sendMail(srv.mailroom.smtpPort, {
      from: '"<img src=x onerror=alert(1)>" <evil@example.com>',
      subject: '<script>alert("subject")</script>\u202Efdp.exe',
      text: '<b>not bold</b> <script>alert(1)</script>',
      html: `<p id="ready">names</p>`,
      attachments: [
        {
          filename: '<img src=x onerror=alert(1)>.html',
          content: `<script>fetch('${canary.origin}/attachment-html')</script>`,
          contentType: 'text/html',
        },
        {
          filename: 'pic.svg',
          content: `<svg xmlns="http://www.w3.org/2000/svg" onload="fetch('${canary.origin}/attachment-svg')"><script>fetch('${canary.origin}/attachment-svg-script')</script></svg>`,
          contentType: 'image/svg+xml',
        },
      ],
    });
    await waitForCount(srv.base, messages.length + 1);

    ({ context, page } = await newPage(browser));
    errors = collectErrors(page);
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    // A link opens a new tab (allow-popups): note where it was going and close it at once, so
    // the UI stays the front page (a page behind another gets its timers and frames throttled).
    context.on('page', (p) => {
      popups.push(p.url());
      void p.close().catch(() => {});
    });
    await page.goto(`${srv.base}/`);
    await page.locator('.row[data-id]').first().waitFor();
    baseline = await page.evaluate(() => ({
      globals: Object.getOwnPropertyNames(window),
      scripts: document.scripts.length,
      head: document.head.innerHTML.replace(/<title>[^<]*<\/title>/, '<title></title>'),
      title: document.title,
    }));
  });

  after(async () => {
    await browser?.close();
    await srv?.stop();
    await new Promise((r) => canary?.server.close(r));
  });

  /** Everything the UI's page must still look like after each message. */
  async function assertUiUntouched(where: string) {
    assert.equal(new URL(page.url()).origin, srv.base, `${where}: the UI page did not navigate`);
    const state = await page.evaluate((markers) => {
      const w = window as unknown as Record<string, unknown>;
      const handlers: string[] = [];
      for (const el of document.querySelectorAll('*')) {
        for (const a of el.getAttributeNames()) if (a.startsWith('on')) handlers.push(`${el.tagName} ${a}`);
      }
      return {
        markers: markers.filter((m) => m in w),
        globals: Object.getOwnPropertyNames(window),
        scripts: document.scripts.length,
        head: document.head.innerHTML.replace(/<title>[^<]*<\/title>/, '<title></title>'),
        title: document.title,
        top: window.top?.location.href,
        handlers,
        frames: [...document.querySelectorAll('iframe')].map((f) => [
          f.getAttribute('sandbox'),
          f.getAttribute('src'),
        ]),
      };
    }, MARKERS);
    assert.deepEqual(state.markers, [], `${where}: no global set by the message`);
    assert.deepEqual(
      // Indexed names are the frames (window[0] is the preview), not globals.
      state.globals.filter((g) => !baseline.globals.includes(g) && !/^\d+$/.test(g)),
      [],
      `${where}: no new globals in the UI's window`,
    );
    assert.equal(state.scripts, baseline.scripts, `${where}: no script element added`);
    assert.equal(state.head, baseline.head, `${where}: <head> unchanged`);
    assert.match(state.title, /^(\(\d+\) )?Mailroom$/, `${where}: title untouched`);
    assert.equal(new URL(state.top ?? '').origin, srv.base, `${where}: top location unchanged`);
    assert.deepEqual(state.handlers, [], `${where}: no inline event handler in the UI's DOM`);
    for (const [sandbox, src] of state.frames) {
      assert.equal(sandbox, 'allow-popups allow-popups-to-escape-sandbox', `${where}: frame sandbox`);
      assert.match(src ?? '', /^\/view\/[A-Za-z0-9]+\.html\?embed=1(&remote=1)?$/, `${where}: frame src`);
    }
    assert.deepEqual(dialogs, [], `${where}: no dialog`);
  }

  it('renders every hostile message inert, clicking its links and buttons', async () => {
    const all = await listAll(srv.base);
    for (const m of messages) {
      const id = all.messages.find((s) => s.Subject === m.subject)?.ID;
      assert.ok(id, m.subject);
      await page.locator('.row[data-id]', { hasText: m.subject }).click();
      await page.waitForURL(new RegExp(`/m/${id}$`));
      await page.locator('#tab-html').click();
      const frameEl = page.locator('iframe.html-frame');
      await page.frameLocator('iframe.html-frame').locator('#ready').waitFor();
      const frame = await (await frameEl.elementHandle())?.contentFrame();
      assert.ok(frame, 'the preview frame');
      await settle(frame);
      for (const sel of m.clicks) {
        await frame.locator(sel).click({ timeout: 5000 });
        await frame.locator(sel).hover();
      }
      await settle(frame);
      // The frame is still the message view (no refresh, no form post, no javascript: URL).
      assert.match(frame.url(), new RegExp(`/view/${id}\\.html\\?embed=1$`), `${m.subject}: frame URL`);
      const inFrame = await frame.evaluate(() => 'x').catch((e: Error) => e.message);
      // Scripts are off in the sandbox: evaluating through the debugger still works, but the
      // markers must be absent from the frame's own window.
      assert.equal(inFrame, 'x');
      const frameMarkers = await frame.evaluate(
        (markers) => markers.filter((k) => k in (window as unknown as Record<string, unknown>)),
        MARKERS,
      );
      assert.deepEqual(frameMarkers, [], `${m.subject}: no script ran in the frame`);

      // The source and text views show the same HTML as text.
      await page.locator('#tab-source').click();
      await page.getByTestId('source').waitFor();
      await page.locator('#tab-text').click();
      await page.getByTestId('text').waitFor();
      await assertUiUntouched(m.subject);
      await page.locator('#tab-html').click();
      if (m.subject === 'XSS event handlers') await screenshot(page, 'xss-event-handlers');
    }
    assert.deepEqual(canary.hits, [], 'the canary saw no request while remote content was blocked');
    // Plain links may open a new tab (that is what allow-popups is for), never to a script.
    for (const url of popups) assert.doesNotMatch(url, /javascript:|toplocation/i, `a popup went to ${url}`);
  });

  it('loads remote images only after the reader allows them, and nothing else', async () => {
    await page.locator('.row[data-id]', { hasText: 'XSS remote images' }).click();
    await page.locator('#tab-html').click();
    await page.frameLocator('iframe.html-frame').locator('#ready').waitFor();
    const note = page.locator('.remote-note', { hasText: 'blocked' });
    await note.waitFor();
    assert.match(await note.innerText(), /\d+ remote images? blocked/);
    await screenshot(page, 'xss-remote-blocked');
    const frameOf = async () => {
      const f = await (await page.locator('iframe.html-frame').elementHandle())?.contentFrame();
      assert.ok(f, 'the preview frame');
      return f;
    };
    await settle(await frameOf());
    assert.deepEqual(canary.hits, []);

    await note.getByRole('button', { name: 'Show' }).click();
    await page.waitForFunction(() =>
      document.querySelector('iframe.html-frame')?.getAttribute('src')?.endsWith('&remote=1'),
    );
    await page.frameLocator('iframe.html-frame').locator('#ready').waitFor();
    await until(() => canary.hits.includes('GET /remote-image.png'), 'the allowed remote image');
    await settle(await frameOf());
    assert.ok(
      canary.hits.some((h) => h === 'GET /remote-image.png'),
      `the allowed remote image loaded: ${JSON.stringify(canary.hits)}`,
    );
    for (const h of canary.hits)
      assert.match(h, /^GET \/remote-[a-z]+\.png$/, `only images were fetched: ${h}`);
    await assertUiUntouched('remote images');
  });

  it('keeps hostile subjects, names and attachments as text and inert', async () => {
    const hits = canary.hits.length;
    const subject = '<script>alert("subject")</script>\u202Efdp.exe';
    const row = page.locator('.row[data-id]', { hasText: '<script>alert("subject")</script>' });
    await row.waitFor();
    assert.equal(
      (await row.locator('.row-subject').innerText()).replace(/\s+/g, ''),
      '<script>alert("subject")</script>U+202Efdp.exe',
      'the subject is text, its RTL override shown as a badge',
    );
    assert.match(await row.locator('.row-from').innerText(), /<img src=x onerror=alert\(1\)>/);
    await row.click();
    await page.locator('.msg-subject').waitFor();
    assert.ok((await page.locator('.msg-subject').innerText()).includes('<script>alert("subject")</script>'));
    await page.locator('#tab-text').click();
    assert.equal(
      (await page.getByTestId('text').innerText()).trim(),
      '<b>not bold</b> <script>alert(1)</script>',
    );
    await page.locator('#tab-attachments').click();
    const att = page.locator('.att', { hasText: 'onerror' });
    await att.waitFor();
    assert.match(await att.locator('.att-name').innerText(), /<img src=x onerror=alert\(1\)>\.html/);
    await screenshot(page, 'xss-hostile-names');
    await assertUiUntouched('hostile names');
    void subject;

    // Opened directly (as "Open" does), an HTML or SVG part runs nothing.
    const links = await page
      .locator('.att a[target="_blank"]')
      .evaluateAll((as) => as.map((a) => (a as PageValue).href));
    assert.equal(links.length, 2);
    const other = await browser.newContext();
    const direct = await other.newPage();
    direct.on('dialog', (d) => {
      dialogs.push(`part: ${d.type()}`);
      void d.dismiss();
    });
    for (const href of links) {
      await direct.goto(href);
      await settle(direct.mainFrame());
    }
    await other.close();
    assert.equal(
      canary.hits.length,
      hits,
      `opening parts made no request: ${JSON.stringify(canary.hits.slice(hits))}`,
    );
    assert.deepEqual(dialogs, []);
  });

  it('logged no page errors', () => {
    const unexpected = errors.filter(
      (e) =>
        !/Content Security Policy|sandboxed|Blocked script execution|Blocked form submission|javascript:|Not allowed to load local resource|Unsafe attempt/i.test(
          e,
        ),
    );
    assert.deepEqual(unexpected, []);
  });
});
