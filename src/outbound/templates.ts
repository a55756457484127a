// Message templates: a subject, a text and an HTML body written in Handlebars or Liquid, rendered
// with the data a send request brings. Values are HTML-escaped in the HTML body (Handlebars'
// `{{x}}`, Liquid's every `{{ x }}`; `{{{x}}}` and `{{ x | raw }}` are the author's explicit choice
// of raw HTML) and left as they are in the subject and the text, where escaping would only show
// entities to the reader. A variable the data does not have renders as nothing in both languages.
//
// Templates are stored through the API, so their authors are not trusted with the machine: Liquid
// has no file system to read from (include, render and layout are not tags here) and every render
// is bounded in time, in what filters may allocate and in the size of what it writes.
import Handlebars from 'handlebars';
import {
  Context,
  type Emitter,
  Liquid,
  LiquidError,
  type Template as LiquidTemplate,
  toValue,
  toValueSync,
} from 'liquidjs';
import {
  MAX_TEMPLATE_SOURCE,
  type MessageTemplate,
  TEMPLATE_ENGINES,
  type TemplateEngine,
} from '../domain/template.ts';
import { CompositionError } from './compose.ts';

export type { MessageTemplate, TemplateEngine };
export { MAX_TEMPLATE_SOURCE, TEMPLATE_ENGINES };

/** Liquid: the longest one part may render to, in characters. */
const MAX_RENDERED_CHARS = 10_000_000;
/** Liquid: what filters and ranges may allocate in one render (liquidjs counts elements and characters). */
const LIQUID_MEMORY_LIMIT = 10_000_000;
/** Liquid: wall-clock time for one render; a backstop behind the two above, which count, not time. */
const LIQUID_RENDER_MS = 1_000;

export interface Rendered {
  subject: string;
  text: string;
  html: string;
}

type Part = keyof Rendered;

/** Where in a part's source a problem is, when the engine says (1-based). */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A template that does not compile: which part, where, and the engine's words. */
export class TemplateError extends Error {
  readonly part: Part;
  readonly position: SourcePosition | null;
  constructor(part: Part, message: string, position: SourcePosition | null = null) {
    super(`${part}: ${position ? `line ${position.line}, column ${position.column}: ` : ''}${message}`);
    this.name = 'TemplateError';
    this.part = part;
    this.position = position;
  }
}

/**
 * A stored template that fails with the data it was given (a limit reached, say). It is a
 * refusal of the send request, so the send API answers 400 with this message.
 */
export class TemplateRenderError extends CompositionError {
  constructor(name: string, cause: TemplateError) {
    super('Template', `Template "${name}" could not be rendered: ${cause.message}`);
    this.name = 'TemplateRenderError';
  }
}

type Compiled = (data: Record<string, unknown>) => string;

// --- Handlebars ---------------------------------------------------------------------------------

// An environment of our own: no helper or partial another module registers can reach it.
const hbs = Handlebars.create();

/**
 * Handlebars: loop iterations in one render, nested loops counted together. Handlebars has no
 * limits of its own, and `{{#each a}}{{#each a}}{{#each a}}` over a long list in the data would
 * otherwise run for as long as it likes; past this the render is refused.
 */
export const MAX_LOOP_ITERATIONS = 100_000;
/** Iterations so far in the render under way (renders are synchronous: one at a time). */
let iterations = 0;

type EachHelper = (this: unknown, context: unknown, options: Handlebars.HelperOptions) => string;
const builtinEach = hbs.helpers.each as EachHelper;
hbs.registerHelper('each', function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
  const counted = (item: unknown, o?: Handlebars.RuntimeOptions) => {
    if (++iterations > MAX_LOOP_ITERATIONS) {
      throw new Error(`more than ${MAX_LOOP_ITERATIONS} loop iterations in one render`);
    }
    return options.fn(item, o);
  };
  return builtinEach.call(this, context, { ...options, fn: Object.assign(counted, options.fn) });
});

function compileHandlebars(part: Part, source: string, escapeHtml: boolean): Compiled {
  try {
    const template = hbs.compile(source, { noEscape: !escapeHtml, strict: false });
    // Compilation is lazy in Handlebars: run once on nothing so syntax errors surface here.
    template({});
    return (data) => {
      iterations = 0;
      const out = template(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
      if (out.length > MAX_RENDERED_CHARS) {
        throw new Error(`output limit exceeded (more than ${MAX_RENDERED_CHARS} characters)`);
      }
      return out;
    };
  } catch (err) {
    throw new TemplateError(part, (err as Error).message.split('\n')[0] ?? 'does not compile');
  }
}

// --- Liquid -------------------------------------------------------------------------------------

/** The tags that read other templates; with no file system they could only fail, so none exist. */
const FILE_TAGS = ['include', 'render', 'layout'];

function liquidEngine(escapeHtml: boolean): Liquid {
  const engine = new Liquid({
    // An in-memory file system holding nothing: whatever asks for a file finds none on disk.
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    cache: false,
    // An unknown filter is a mistake to report when the template is saved, not to skip silently.
    strictFilters: true,
    // A missing variable renders as nothing, as in Handlebars.
    strictVariables: false,
    ownPropertyOnly: true,
    // Dates render the same whatever the server's zone.
    timezoneOffset: 0,
    parseLimit: MAX_TEMPLATE_SOURCE,
    memoryLimit: LIQUID_MEMORY_LIMIT,
    renderLimit: LIQUID_RENDER_MS,
    ...(escapeHtml ? { outputEscape: 'escape' as const } : {}),
  });
  for (const tag of FILE_TAGS) Reflect.deleteProperty(engine.tags, tag);
  return engine;
}

const liquidHtml = liquidEngine(true);
const liquidPlain = liquidEngine(false);

/** What liquidjs writes for a value (its own `stringify`, which it does not export). */
function outputText(value: unknown): string {
  const v: unknown = toValue(value);
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(outputText).join('');
  return String(v);
}

/** The render's output, refused once it grows past the limit (liquidjs counts no output). */
class CappedEmitter implements Emitter {
  buffer = '';
  write(html: unknown): void {
    this.buffer += outputText(html);
    if (this.buffer.length > MAX_RENDERED_CHARS)
      throw new Error(`output limit exceeded (more than ${MAX_RENDERED_CHARS} characters)`);
  }
}

/** A liquidjs error as a TemplateError: its message without the position, which comes apart. */
function liquidProblem(part: Part, err: unknown): TemplateError {
  if (!LiquidError.is(err)) return new TemplateError(part, (err as Error).message ?? String(err));
  const e = err as LiquidError;
  const [line, column] = e.token?.getPosition() ?? [];
  const message = (e.message.split('\n')[0] ?? '').replace(/, line:\d+, col:\d+$/, '');
  return new TemplateError(part, message, line && column ? { line, column } : null);
}

function compileLiquid(part: Part, source: string, escapeHtml: boolean): Compiled {
  const engine = escapeHtml ? liquidHtml : liquidPlain;
  let templates: LiquidTemplate[];
  try {
    templates = engine.parse(source);
  } catch (err) {
    throw liquidProblem(part, err);
  }
  return (data) => {
    const ctx = new Context(data, engine.options, { sync: true }, { liquid: engine });
    const out = new CappedEmitter();
    try {
      toValueSync(engine.renderer.renderTemplates(templates, ctx, out));
    } catch (err) {
      throw liquidProblem(part, err);
    }
    return out.buffer;
  };
}

// --- Both ---------------------------------------------------------------------------------------

type Source = Omit<MessageTemplate, 'name' | 'updatedAt'>;

function compilePart(engine: TemplateEngine, part: Part, source: string, escapeHtml: boolean): Compiled {
  return engine === 'liquid'
    ? compileLiquid(part, source, escapeHtml)
    : compileHandlebars(part, source, escapeHtml);
}

function compileAll(t: Source): Record<Part, Compiled> {
  const engine = t.engine ?? 'handlebars';
  return {
    subject: compilePart(engine, 'subject', t.subject, false),
    text: compilePart(engine, 'text', t.text, false),
    html: compilePart(engine, 'html', t.html, true),
  };
}

const cache = new Map<string, { source: Required<Source>; parts: Record<Part, Compiled> }>();

function compiled(t: MessageTemplate): Record<Part, Compiled> {
  const source: Required<Source> = {
    engine: t.engine ?? 'handlebars',
    subject: t.subject,
    text: t.text,
    html: t.html,
  };
  const hit = cache.get(t.name);
  // Compared by content: two saves within one clock tick must not share a compiled template.
  if (
    hit &&
    hit.source.engine === source.engine &&
    hit.source.subject === source.subject &&
    hit.source.text === source.text &&
    hit.source.html === source.html
  )
    return hit.parts;
  const parts = compileAll(source);
  cache.set(t.name, { source, parts });
  return parts;
}

/** Throws TemplateError when a part does not compile. */
export function checkTemplate(t: Omit<MessageTemplate, 'updatedAt'>): void {
  compileAll(t);
}

/**
 * Renders the three parts. Throws TemplateRenderError when the data makes a part fail (a Liquid
 * limit reached, say).
 */
export function renderTemplate(t: MessageTemplate, data: Record<string, unknown>): Rendered {
  const fail = (part: Part, err: unknown): never => {
    const problem = err instanceof TemplateError ? err : new TemplateError(part, (err as Error).message);
    throw new TemplateRenderError(t.name, problem);
  };
  let parts: Record<Part, Compiled>;
  try {
    parts = compiled(t);
  } catch (err) {
    // Only a row changed behind the API's back gets here.
    return fail('subject', err);
  }
  const run = (part: Part) => {
    try {
      return parts[part](data);
    } catch (err) {
      return fail(part, err);
    }
  };
  // A subject is one line: a value with a line break must not start a header of its own.
  const subject = run('subject').replace(/[\r\n]+/g, ' ');
  return { subject, text: run('text'), html: run('html') };
}
