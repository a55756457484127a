// Handlebars renders are bounded like Liquid's: loop iterations (nested loops counted together)
// and the size of what a part renders to. A render past either is refused as the send request's
// fault (TemplateRenderError, a 400), never left to run or to fill memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_LOOP_ITERATIONS, renderTemplate, TemplateRenderError } from '../../src/outbound/templates.ts';

const template = (html: string, text = 'plain') => ({
  name: 'limits',
  engine: 'handlebars' as const,
  subject: 'Hello {{name}}',
  text,
  html,
  updatedAt: '2026-11-24T00:00:00.000Z',
});
const list = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('Handlebars render limits', () => {
  it('renders nested loops within the budget', () => {
    const r = renderTemplate(template('{{#each a}}{{#each ../a}}.{{/each}}{{/each}}'), { a: list(100) });
    assert.equal(r.html.length, 100 * 100);
    // The budget is per render: the same template again is fine.
    assert.equal(
      renderTemplate(template('{{#each a}}.{{/each}}'), { a: list(MAX_LOOP_ITERATIONS) }).html.length,
      MAX_LOOP_ITERATIONS,
    );
  });

  it('refuses a render with more loop iterations than the budget, nested ones counted together', () => {
    const nested = template('{{#each a}}{{#each ../a}}{{#each ../../a}}.{{/each}}{{/each}}{{/each}}');
    assert.throws(
      () => renderTemplate(nested, { a: list(100) }),
      (err) =>
        err instanceof TemplateRenderError && /html: more than 100000 loop iterations/.test(err.message),
    );
    const objectKeys = Object.fromEntries(list(MAX_LOOP_ITERATIONS + 1).map((i) => [`k${i}`, i]));
    assert.throws(
      () => renderTemplate(template('{{#each o}}{{@key}}{{/each}}'), { o: objectKeys }),
      TemplateRenderError,
    );
  });

  it('refuses a part that renders to more than its size limit', () => {
    const big = 'x'.repeat(200_000);
    assert.throws(
      () => renderTemplate(template('ok', '{{#each a}}{{@root.big}}{{/each}}'), { a: list(60), big }),
      (err) => err instanceof TemplateRenderError && /text: .*output limit exceeded/.test(err.message),
    );
  });
});
