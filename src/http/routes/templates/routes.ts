// Stored message templates: create or replace, list, read, delete, and preview with sample data.
import { Hono } from 'hono';
import type { MessageTemplate } from '../../../domain/template.ts';
import type { Rendered } from '../../../outbound/templates.ts';
import type { OutboundStore } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { previewBody, templateBody, templateName } from './schema.ts';

function present(t: MessageTemplate) {
  return {
    Name: t.name,
    Subject: t.subject,
    Text: t.text,
    HTML: t.html,
    Engine: t.engine ?? 'handlebars',
    UpdatedAt: t.updatedAt,
  };
}

export function templateRoutes(deps: { queue: OutboundStore; now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { queue } = deps;

  const find = async (raw: string) => {
    const name = validate(templateName, raw, 'template name');
    const t = await queue.template(name);
    if (!t) throw new HttpProblem('not-found', `There is no template ${name}.`);
    return t;
  };

  app.get('/templates', async (c) => c.json({ templates: (await queue.templates()).map(present) }));

  app.get('/templates/:name', async (c) => c.json(present(await find(c.req.param('name')))));

  app.put('/templates/:name', async (c) => {
    const name = validate(templateName, c.req.param('name'), 'template name');
    const body = validate(templateBody, await readJsonBody(c.req), 'template');
    const t: MessageTemplate = {
      name,
      subject: body.Subject,
      text: body.Text,
      html: body.HTML,
      engine: body.Engine,
      updatedAt: new Date(deps.now()).toISOString(),
    };
    // The engines (Handlebars, Liquid) load with the first template checked or rendered.
    const { checkTemplate, TemplateError } = await import('../../../outbound/templates.ts');
    try {
      checkTemplate(t);
    } catch (err) {
      // The message names the part and, where the engine says, the line and column in it.
      if (err instanceof TemplateError)
        throw new HttpProblem('bad-request', `The template does not compile: ${err.message}`);
      throw err;
    }
    await queue.saveTemplate(t);
    return c.json(present(t));
  });

  app.delete('/templates/:name', async (c) => {
    const name = validate(templateName, c.req.param('name'), 'template name');
    if (!(await queue.deleteTemplate(name)))
      throw new HttpProblem('not-found', `There is no template ${name}.`);
    return c.text('ok');
  });

  app.post('/templates/:name/preview', async (c) => {
    const t = await find(c.req.param('name'));
    const { Data } = validate(previewBody, (await readJsonBody(c.req)) ?? {}, 'preview');
    const { renderTemplate, TemplateRenderError } = await import('../../../outbound/templates.ts');
    let r: Rendered;
    try {
      r = renderTemplate(t, Data);
    } catch (err) {
      // A limit reached with this data: the same refusal a send with it gets.
      if (err instanceof TemplateRenderError) throw new HttpProblem('bad-request', err.message);
      throw err;
    }
    return c.json({ Subject: r.subject, Text: r.text, HTML: r.html });
  });

  return app;
}
