// The shape of a route in the API and in the routes file (--routes-file): Mailpit's PascalCase,
// checked here once for both, and turned into the domain's Route.
import { z } from 'zod';
import type { Condition, PublishTarget, Route, RouteAction } from '../domain/route.ts';
import { ROUTE_ID, ROUTE_LIMITS } from '../domain/route.ts';
import { cleanTag } from '../domain/tags.ts';
import { checkAddress } from '../outbound/addresses.ts';

const value = z.string().min(1).max(ROUTE_LIMITS.valueLength);
const textOp = z.enum(['equals', 'contains', 'glob', 'regex']);
const negate = z.boolean().default(false).describe('Holds when the test does not');

const address = z
  .string()
  .max(320)
  .refine(
    (a) => checkAddress(a).ok,
    'not a deliverable address (local@domain, no percent hack, quotes or literals)',
  );

/** One line of plain text, as SMTP replies and subjects need: no CR, LF or other controls. */
const line = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must be one line without control characters');

const noCredentials = (u: string) => {
  const url = new URL(u);
  return url.username === '' && url.password === '';
};

const condition = z.discriminatedUnion('Field', [
  z.strictObject({
    Field: z.enum(['recipient', 'sender', 'from', 'subject', 'body']),
    Op: textOp,
    Value: value,
    Negate: negate,
  }),
  z.strictObject({
    Field: z.literal('header'),
    Name: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,76}$/, 'a header field name (RFC 5322 §3.6.8)'),
    Op: z.enum(['equals', 'contains', 'glob', 'regex', 'exists']),
    Value: value.optional(),
    Negate: negate,
  }),
  z.strictObject({
    Field: z.literal('attachment'),
    On: z.enum(['filename', 'content-type']).optional(),
    Op: z.enum(['exists', 'equals', 'contains', 'glob', 'regex']),
    Value: value.optional(),
    Negate: negate,
  }),
  z.strictObject({
    Field: z.enum(['size', 'spam-score']),
    Op: z.enum(['gt', 'gte', 'lt', 'lte']),
    Value: z.number().finite(),
    Negate: negate,
  }),
  z.strictObject({
    Field: z.literal('auth'),
    Check: z.enum(['spf', 'dkim', 'dmarc', 'arc']),
    Op: z.literal('equals'),
    Value: z.enum(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']),
    Negate: negate,
  }),
]);

const publishTarget = z.discriminatedUnion('Kind', [
  z.strictObject({
    Kind: z.literal('amqp'),
    URL: z
      .url({ protocol: /^amqps?$/ })
      .describe('amqp:// or amqps://, user and password included if needed'),
    Exchange: z.string().max(255),
    RoutingKey: z.string().max(255),
  }),
  z.strictObject({
    Kind: z.literal('nats'),
    Servers: z.string().min(1).max(1024).describe('nats://host:port, several separated by commas'),
    Subject: z.string().regex(/^[^\s*>]+$/, 'a NATS subject without wildcards'),
    JetStream: z
      .boolean()
      .default(false)
      .describe('Publish through JetStream and wait for its acknowledgement'),
  }),
]);

const action = z.discriminatedUnion('Type', [
  z.strictObject({
    Type: z.literal('webhook'),
    URL: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .refine(noCredentials, 'must not carry a user name or password'),
    Attachments: z.enum(['inline', 'url', 'none']).default('url'),
  }),
  z.strictObject({ Type: z.literal('forward'), To: z.array(address).min(1).max(50) }),
  z.strictObject({
    Type: z.literal('auto-reply'),
    From: address
      .optional()
      .describe('Our address the reply comes from; the recipient the mail was sent to when absent'),
    Subject: line(998).min(1),
    Text: z.string().min(1).max(65_536),
    PeriodSeconds: z
      .number()
      .int()
      .min(60)
      .max(365 * 86_400)
      .default(86_400)
      .describe('At most one reply to a sender in this time'),
  }),
  z.strictObject({
    Type: z.literal('reject'),
    Code: z
      .number()
      .int()
      .refine(
        (c) => (c >= 421 && c <= 459) || (c >= 550 && c <= 559),
        '421-459 (try later) or 550-559 (refused)',
      ),
    Text: line(200)
      .regex(/^[\x20-\x7e]*$/, 'printable ASCII (RFC 5321 §4.2)')
      .default('Message refused'),
  }),
  z.strictObject({
    Type: z.literal('store'),
    Tags: z
      .array(z.string().refine((t) => cleanTag(t) !== null, 'not a valid tag name'))
      .max(ROUTE_LIMITS.actions)
      .default([]),
  }),
  z.strictObject({ Type: z.literal('publish'), Target: publishTarget }),
  z.strictObject({
    Type: z.literal('ticket'),
    Desk: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
      .describe(
        "The desk's name (its domain unless --desk set name=): the message goes to it as to its intake address",
      ),
  }),
  z.strictObject({ Type: z.literal('stop') }),
]);

export const routeBody = z
  .strictObject({
    Name: line(200).min(1),
    Priority: z.number().int().min(0).max(1_000_000).default(100).describe('Lower runs first'),
    Enabled: z.boolean().default(true),
    Match: z.enum(['all', 'any']).default('all').describe('Every condition must hold, or one is enough'),
    Conditions: z.array(condition).max(ROUTE_LIMITS.conditions).default([]),
    Actions: z.array(action).min(1).max(ROUTE_LIMITS.actions),
  })
  .superRefine((r, ctx) => {
    r.Conditions.forEach((c, i) => {
      const needsValue =
        (c.Field === 'header' && c.Op !== 'exists') || (c.Field === 'attachment' && c.Op !== 'exists');
      if (needsValue && c.Value === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['Conditions', i, 'Value'],
          message: `Op ${c.Op} needs a Value`,
        });
      if (c.Field === 'attachment' && c.Op !== 'exists' && c.On === undefined)
        ctx.addIssue({ code: 'custom', path: ['Conditions', i, 'On'], message: 'filename or content-type' });
    });
    if (r.Actions.filter((a) => a.Type === 'reject').length > 1)
      ctx.addIssue({ code: 'custom', path: ['Actions'], message: 'at most one reject action' });
  });

export type RouteBody = z.infer<typeof routeBody>;

export const routeId = z
  .string()
  .regex(ROUTE_ID, 'letters, digits, _ and - (at most 64, starting with a letter or digit)')
  .describe('Route ID');

function toCondition(c: RouteBody['Conditions'][number]): Condition {
  const negate = c.Negate ? { negate: true } : {};
  switch (c.Field) {
    case 'header':
      return c.Op === 'exists'
        ? { field: 'header', name: c.Name, op: 'exists', ...negate }
        : { field: 'header', name: c.Name, op: c.Op, value: c.Value ?? '', ...negate };
    case 'attachment':
      return c.Op === 'exists'
        ? { field: 'attachment', op: 'exists', ...negate }
        : { field: 'attachment', on: c.On ?? 'filename', op: c.Op, value: c.Value ?? '', ...negate };
    case 'size':
    case 'spam-score':
      return { field: c.Field, op: c.Op, value: c.Value, ...negate };
    case 'auth':
      return { field: 'auth', check: c.Check, op: 'equals', value: c.Value, ...negate };
    default:
      return { field: c.Field, op: c.Op, value: c.Value, ...negate };
  }
}

function toTarget(t: RouteBody['Actions'][number] & { Type: 'publish' }): PublishTarget {
  const x = t.Target;
  return x.Kind === 'amqp'
    ? { kind: 'amqp', url: x.URL, exchange: x.Exchange, routingKey: x.RoutingKey }
    : { kind: 'nats', servers: x.Servers, subject: x.Subject, jetstream: x.JetStream };
}

function toAction(a: RouteBody['Actions'][number]): RouteAction {
  switch (a.Type) {
    case 'webhook':
      return { type: 'webhook', url: a.URL, attachments: a.Attachments };
    case 'forward':
      return { type: 'forward', to: a.To };
    case 'auto-reply':
      return {
        type: 'auto-reply',
        from: a.From ?? '',
        subject: a.Subject,
        text: a.Text,
        periodSeconds: a.PeriodSeconds,
      };
    case 'reject':
      return { type: 'reject', code: a.Code, text: a.Text };
    case 'store':
      return { type: 'store', tags: a.Tags.map((t) => cleanTag(t)!) };
    case 'publish':
      return { type: 'publish', target: toTarget(a) };
    case 'ticket':
      return { type: 'ticket', desk: a.Desk };
    case 'stop':
      return { type: 'stop' };
  }
}

/** The domain route for a checked body; `createdAt` is kept from the route it replaces. */
export function routeFromBody(
  id: string,
  body: RouteBody,
  source: Route['source'],
  times: { createdAt: string; updatedAt: string },
): Route {
  return {
    id,
    name: body.Name,
    priority: body.Priority,
    enabled: body.Enabled,
    match: body.Match,
    conditions: body.Conditions.map(toCondition),
    actions: body.Actions.map(toAction),
    source,
    ...times,
  };
}

/** A URL with its password replaced: route listings never show a broker's secret. */
function masked(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function presentCondition(c: Condition): Record<string, unknown> {
  const common = c.negate ? { Negate: true } : {};
  switch (c.field) {
    case 'header':
      return {
        Field: 'header',
        Name: c.name,
        Op: c.op,
        ...(c.value === undefined ? {} : { Value: c.value }),
        ...common,
      };
    case 'attachment':
      return 'on' in c
        ? { Field: 'attachment', On: c.on, Op: c.op, Value: c.value, ...common }
        : { Field: 'attachment', Op: 'exists', ...common };
    case 'auth':
      return { Field: 'auth', Check: c.check, Op: c.op, Value: c.value, ...common };
    default:
      return { Field: c.field, Op: c.op, Value: c.value, ...common };
  }
}

function presentAction(a: RouteAction): Record<string, unknown> {
  switch (a.type) {
    case 'webhook':
      return { Type: a.type, URL: a.url, Attachments: a.attachments };
    case 'forward':
      return { Type: a.type, To: a.to };
    case 'auto-reply':
      return { Type: a.type, From: a.from, Subject: a.subject, Text: a.text, PeriodSeconds: a.periodSeconds };
    case 'reject':
      return { Type: a.type, Code: a.code, Text: a.text };
    case 'store':
      return { Type: a.type, Tags: a.tags };
    case 'ticket':
      return { Type: a.type, Desk: a.desk };
    case 'publish':
      return {
        Type: a.type,
        Target:
          a.target.kind === 'amqp'
            ? {
                Kind: 'amqp',
                URL: masked(a.target.url),
                Exchange: a.target.exchange,
                RoutingKey: a.target.routingKey,
              }
            : {
                Kind: 'nats',
                Servers: a.target.servers.split(',').map(masked).join(','),
                Subject: a.target.subject,
                JetStream: a.target.jetstream,
              },
      };
    case 'stop':
      return { Type: a.type };
  }
}

export function presentRoute(r: Route) {
  return {
    ID: r.id,
    Name: r.name,
    Priority: r.priority,
    Enabled: r.enabled,
    Match: r.match,
    Conditions: r.conditions.map(presentCondition),
    Actions: r.actions.map(presentAction),
    Source: r.source,
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt,
  };
}
