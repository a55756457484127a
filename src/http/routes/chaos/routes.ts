// GET/PUT /api/v1/chaos: the chaos triggers of this process's SMTP listeners (src/smtp/chaos.ts),
// in Mailpit's shape with Mailroom's extensions. The triggers live in the process: a PUT changes
// the listeners of the node that answers it.
import { Hono } from 'hono';
import type { z } from 'zod';
import {
  type Chaos,
  type ChaosStage,
  type ChaosTrigger,
  type ChaosTriggers,
  DEFAULT_CODES,
} from '../../../smtp/chaos.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { chaosBody, type chaosTriggerBody } from './schema.ts';

/** API field → stage, in the order the answer lists them. */
const FIELDS = {
  Sender: 'mail-from',
  Recipient: 'rcpt-to',
  Authentication: 'auth',
  Connect: 'connect',
  Data: 'data',
} as const satisfies Record<string, ChaosStage>;

type Field = keyof typeof FIELDS;

function present(t: ChaosTrigger) {
  return { ErrorCode: t.code, Probability: t.probability, LatencyMs: t.latencyMs, Disconnect: t.disconnect };
}

export function presentChaos(triggers: ChaosTriggers): Record<Field, ReturnType<typeof present>> {
  const out = {} as Record<Field, ReturnType<typeof present>>;
  for (const [field, stage] of Object.entries(FIELDS) as [Field, ChaosStage][]) {
    out[field] = present(triggers[stage]);
  }
  return out;
}

function toTrigger(stage: ChaosStage, body: z.output<typeof chaosTriggerBody>): ChaosTrigger {
  return {
    // Mailpit: an ErrorCode of 0 (or none) is the stage's default.
    code: body.ErrorCode || DEFAULT_CODES[stage],
    probability: body.Probability ?? 0,
    latencyMs: body.LatencyMs ?? 0,
    disconnect: body.Disconnect ?? false,
  };
}

export function chaosRoutes(deps: { chaos: Chaos | null }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const chaosOf = (): Chaos => {
    if (deps.chaos) return deps.chaos;
    throw new HttpProblem(
      'conflict',
      'Chaos is not enabled on this node: start it with --chaos-enabled (or --chaos) and the smtp role.',
    );
  };

  app.get('/chaos', (c) => c.json(presentChaos(chaosOf().get())));

  app.put('/chaos', async (c) => {
    const chaos = chaosOf();
    // Mailpit: an empty body, like {}, resets every trigger.
    const body = validate(chaosBody, (await readJsonBody(c.req)) ?? {}, 'chaos triggers');
    const triggers: Partial<ChaosTriggers> = {};
    for (const [field, stage] of Object.entries(FIELDS) as [Field, ChaosStage][]) {
      const given = body[field];
      if (given) triggers[stage] = toTrigger(stage, given);
    }
    const now = presentChaos(chaos.set(triggers));
    c.get('log').info({ chaos: now }, 'chaos triggers set through the API');
    return c.json(now);
  });

  return app;
}
