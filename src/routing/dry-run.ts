// A dry run: which routes a message matches, with their captures, and what each of their actions
// would do, without doing any of it.
import { replySubject } from '../actions/auto-reply/compose-reply.ts';
import { autoReplyRefusal } from '../actions/auto-reply/rules.ts';
import type { Route, RouteAction } from '../domain/route.ts';
import type { RoutingMessage } from './conditions.ts';
import type { Router, RouteVerdict } from './router.ts';

export interface ActionPreview {
  type: RouteAction['type'];
  /** One sentence: what the action would do with this message, or why it would do nothing. */
  wouldDo: string;
}

export interface RoutePreview extends RouteVerdict {
  name: string;
  actions: ActionPreview[];
}

export interface DryRun {
  routes: RoutePreview[];
  stoppedBy: string | null;
  /** What happens to the message in the end, in one sentence. */
  outcome: string;
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function preview(a: RouteAction, m: RoutingMessage, verdict: RouteVerdict): string {
  switch (a.type) {
    case 'webhook': {
      const files = {
        inline: 'attachments inline in base64',
        url: 'attachments as signed download URLs',
        none: 'no attachments',
      }[a.attachments];
      return `POST the message as signed JSON (${files}) to ${a.url}, retried for 26 hours if the receiver fails`;
    }
    case 'forward':
      return `queue the message as received to ${a.to.join(', ')}, with the envelope sender rewritten to an SRS address of ours so SPF still passes`;
    case 'auto-reply': {
      const refusal = autoReplyRefusal(m);
      if (refusal) return `send no reply: ${refusal}`;
      const from = a.from || verdict.recipient || m.rcptTo[0] || '(the recipient)';
      const hours = Math.round(a.periodSeconds / 360) / 10;
      return `reply "${replySubject(a.subject, m.subject)}" from ${from} to ${m.mailFrom}, unless one went to that sender in the last ${hours} h`;
    }
    case 'reject':
      return `refuse the message with ${a.code} ${a.text}`;
    case 'ticket':
      return `give it to the desk ${a.desk}: a new ticket, or an entry on the ticket a signed reply address or a Message-ID of ours names`;
    case 'store':
      return a.tags.length > 0 ? `store it with the tags ${a.tags.join(', ')}` : 'store it';
    case 'publish':
      return a.target.kind === 'amqp'
        ? `publish the JSON payload to the AMQP exchange "${a.target.exchange}" with routing key "${a.target.routingKey}" at ${safeUrl(a.target.url)}`
        : `publish the JSON payload to the NATS subject "${a.target.subject}"${a.target.jetstream ? ' through JetStream' : ''}`;
    case 'stop':
      return 'end evaluation: later routes are not looked at';
  }
}

export function dryRun(router: Router, m: RoutingMessage): DryRun {
  const evaluation = router.evaluate(m);
  const byId = new Map<string, Route>(router.routes.map((r) => [r.id, r]));
  const routes = evaluation.verdicts.map((v) => {
    const route = byId.get(v.routeId)!;
    return {
      ...v,
      name: route.name,
      actions: v.matched ? route.actions.map((a) => ({ type: a.type, wouldDo: preview(a, m, v) })) : [],
    };
  });
  return { routes, stoppedBy: evaluation.stoppedBy, outcome: outcome(routes) };
}

function outcome(routes: RoutePreview[]): string {
  const matched = routes.filter((r) => r.matched);
  if (matched.length === 0) return 'no route matched: the message is stored';
  for (const r of matched) {
    const reject = r.actions.find((a) => a.type === 'reject');
    if (reject)
      return `route ${r.routeId} refuses it: ${reject.wouldDo.replace(/^refuse the message with /, '')}`;
  }
  const n = matched.reduce((k, r) => k + r.actions.filter((a) => a.type !== 'stop').length, 0);
  return `${matched.length} route${matched.length === 1 ? '' : 's'} matched: the message is stored and ${n} action${n === 1 ? '' : 's'} run`;
}
