// A stored message template (rendered by outbound/templates.ts).
export interface MessageTemplate {
  name: string;
  /** Handlebars sources of the three parts. */
  subject: string;
  text: string;
  html: string;
  updatedAt: string;
}
