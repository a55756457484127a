// Schemas of the template endpoints (Mailroom's own).
import { z } from 'zod';
import { MAX_TEMPLATE_SOURCE, TEMPLATE_ENGINES, TEMPLATE_NAME } from '../../../domain/template.ts';

export const templateName = z
  .string()
  .regex(TEMPLATE_NAME, 'letters, digits, . _ - (at most 64, starting with a letter or digit)')
  .describe('Template name');

export const templateEngine = z
  .enum(TEMPLATE_ENGINES)
  .describe('The language of Subject, Text and HTML: Handlebars ({{x}}) or Liquid ({{ x }}, {% for %})');

export const templateBody = z
  .strictObject({
    Subject: z.string().min(1).max(998).describe('Source of the subject (never HTML-escaped)'),
    Text: z
      .string()
      .max(MAX_TEMPLATE_SOURCE)
      .default('')
      .describe('Source of the text body (never HTML-escaped)'),
    HTML: z
      .string()
      .max(MAX_TEMPLATE_SOURCE)
      .default('')
      .describe(
        'Source of the HTML body: every value is HTML-escaped unless marked raw ({{{x}}} in Handlebars, {{ x | raw }} in Liquid)',
      ),
    Engine: templateEngine.default('handlebars'),
  })
  .refine((t) => t.Text !== '' || t.HTML !== '', 'a template needs Text, HTML or both');

export const previewBody = z
  .strictObject({ Data: z.record(z.string(), z.unknown()).default({}).describe('Sample values') })
  .describe('The data to render the template with');

export const template = z.object({
  Name: z.string(),
  Subject: z.string(),
  Text: z.string(),
  HTML: z.string(),
  Engine: templateEngine,
  UpdatedAt: z.string(),
});

export const templateList = z.object({ templates: z.array(template) });

export const rendered = z.object({ Subject: z.string(), Text: z.string(), HTML: z.string() });
