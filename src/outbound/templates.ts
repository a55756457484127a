// Message templates: a subject, a text and an HTML body written in Handlebars, rendered with the
// data a send request brings. Values are HTML-escaped in the HTML body (Handlebars' `{{x}}`;
// `{{{x}}}` is the author's explicit choice of raw HTML) and left as they are in the subject and
// the text, where escaping would only show entities to the reader.
import Handlebars from 'handlebars';
import type { MessageTemplate } from '../domain/template.ts';

export type { MessageTemplate };

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

/** A template that does not compile: which part, and Handlebars' words. */
export class TemplateError extends Error {
  readonly part: 'subject' | 'text' | 'html';
  constructor(part: 'subject' | 'text' | 'html', message: string) {
    super(`${part}: ${message}`);
    this.name = 'TemplateError';
    this.part = part;
  }
}

// An environment of our own: no helper or partial another module registers can reach it.
const hbs = Handlebars.create();
type Compiled = (data: unknown) => string;
const cache = new Map<string, { updatedAt: string; parts: Record<keyof Rendered, Compiled> }>();

function compilePart(part: keyof Rendered, source: string, escapeHtml: boolean): Compiled {
  try {
    const template = hbs.compile(source, { noEscape: !escapeHtml, strict: false });
    // Compilation is lazy in Handlebars: run once on nothing so syntax errors surface here.
    template({});
    return (data) =>
      template(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
  } catch (err) {
    throw new TemplateError(part, (err as Error).message.split('\n')[0] ?? 'does not compile');
  }
}

function compiled(t: MessageTemplate): Record<keyof Rendered, Compiled> {
  const hit = cache.get(t.name);
  if (hit && hit.updatedAt === t.updatedAt) return hit.parts;
  const parts = {
    subject: compilePart('subject', t.subject, false),
    text: compilePart('text', t.text, false),
    html: compilePart('html', t.html, true),
  };
  cache.set(t.name, { updatedAt: t.updatedAt, parts });
  return parts;
}

/** Throws TemplateError when a part does not compile. */
export function checkTemplate(t: Omit<MessageTemplate, 'updatedAt'>): void {
  compilePart('subject', t.subject, false);
  compilePart('text', t.text, false);
  compilePart('html', t.html, true);
}

export function renderTemplate(t: MessageTemplate, data: Record<string, unknown>): Rendered {
  const parts = compiled(t);
  // A subject is one line: a value with a line break must not start a header of its own.
  const subject = parts.subject(data).replace(/[\r\n]+/g, ' ');
  return { subject, text: parts.text(data), html: parts.html(data) };
}
