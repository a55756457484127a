// The suppression list over HTTP: addresses no delivery is attempted to, with the reason.
import { Hono } from 'hono';
import type { Suppression } from '../../../domain/delivery.ts';
import { checkAddress } from '../../../outbound/addresses.ts';
import type { OutboundStore } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { suppressionBody, suppressionListQuery } from './schema.ts';

function present(s: Suppression) {
  return {
    Address: s.address,
    Reason: s.reason,
    Detail: s.detail,
    CreatedAt: s.createdAt,
    ExpiresAt: s.expiresAt,
  };
}

/** The address as the queue compares it, or a 400 saying what is wrong with it. */
function address(text: string): string {
  const checked = checkAddress(text);
  if (!checked.ok) throw new HttpProblem('bad-request', `Address ${checked.problem}`);
  return checked.value.address.toLowerCase();
}

export function suppressionRoutes(deps: { queue: OutboundStore; now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { queue } = deps;
  const now = () => new Date(deps.now()).toISOString();

  app.get('/suppressions', async (c) => {
    const q = validate(suppressionListQuery, c.req.query(), 'query');
    const list = await queue.suppressions({ start: q.start, limit: q.limit, now: now() });
    return c.json({ suppressions: list.map(present) });
  });

  app.put('/suppressions', async (c) => {
    const body = validate(suppressionBody, await readJsonBody(c.req), 'suppression');
    const entry: Suppression = {
      address: address(body.Address),
      reason: body.Reason,
      detail: body.Detail ?? null,
      createdAt: now(),
      expiresAt: body.ExpiresAt ? new Date(body.ExpiresAt).toISOString() : null,
    };
    await queue.suppress(entry);
    c.get('log').info({ reason: entry.reason }, 'address suppressed through the API');
    return c.json(present(entry));
  });

  app.delete('/suppressions/:address', async (c) => {
    const target = address(c.req.param('address'));
    if (!(await queue.unsuppress(target))) throw new HttpProblem('not-found', `${target} is not suppressed.`);
    return c.text('ok');
  });

  return app;
}
