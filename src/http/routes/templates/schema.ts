// Schemas of the template endpoints (Mailroom's own).
import { z } from 'zod';
import { TEMPLATE_NAME } from '../../../domain/template.ts';

export const templateName = z
  .string()
  .regex(TEMPLATE_NAME, 'letters, digits, . _ - (at most 64, starting with a letter or digit)')
  .describe('Template name');

export const templateBody = z
  .strictObject({
    Subject: z.string().min(1).max(998).describe('Handlebars source of the subject'),
    Text: z.string().max(5_000_000).default('').describe('Handlebars source of the text body'),
    HTML: z
      .string()
      .max(5_000_000)
      .default('')
      .describe('Handlebars source of the HTML body ({{x}} is HTML-escaped)'),
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
  UpdatedAt: z.string(),
});

export const templateList = z.object({ templates: z.array(template) });

export const rendered = z.object({ Subject: z.string(), Text: z.string(), HTML: z.string() });
