// A stored message template (rendered by outbound/templates.ts).

/** Template names: what fits in a URL path segment and reads well in logs. */
export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The languages a template can be written in; Handlebars is the default. */
export const TEMPLATE_ENGINES = ['handlebars', 'liquid'] as const;
export type TemplateEngine = (typeof TEMPLATE_ENGINES)[number];

/** The longest source the API stores for one part; Liquid refuses to parse more. */
export const MAX_TEMPLATE_SOURCE = 5_000_000;

export interface MessageTemplate {
  name: string;
  /** The language of the three sources; absent (a template from before Liquid) is Handlebars. */
  engine?: TemplateEngine;
  /** Sources of the three parts, in `engine`'s language. */
  subject: string;
  text: string;
  html: string;
  updatedAt: string;
}
