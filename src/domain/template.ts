// A stored message template (rendered by outbound/templates.ts).

/** Template names: what fits in a URL path segment and reads well in logs. */
export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export interface MessageTemplate {
  name: string;
  /** Handlebars sources of the three parts. */
  subject: string;
  text: string;
  html: string;
  updatedAt: string;
}
