// Stored API keys over HTTP: make one (its secret shown once), list, read and revoke. Every
// endpoint needs the manage scope, and a key may not be given scopes its maker does not hold.
import { Hono, type MiddlewareHandler } from 'hono';
import {
  API_KEY_SCOPES,
  type ApiKey,
  type ApiKeyScope,
  apiKeyState,
  issueApiKey,
} from '../../../domain/api-key.ts';
import type { ApiKeyStore } from '../../../storage/ports.ts';
import type { AppEnv } from '../../deps.ts';
import { HttpProblem } from '../../errors.ts';
import type { Principal } from '../../middleware/access.ts';
import { readJsonBody, validate } from '../../validate.ts';
import { keyBody, keyListQuery, keyParam } from './schema.ts';

export interface KeyRouteDeps {
  keys: ApiKeyStore;
  now: () => number;
  /** Called after a revocation, so the access policy stops accepting the key at once. */
  onRevoked: (id: string) => void;
}

function present(k: ApiKey, now: number) {
  return {
    ID: k.id,
    Name: k.name,
    Scopes: k.scopes,
    State: apiKeyState(k, now),
    CreatedAt: k.createdAt,
    LastUsedAt: k.lastUsedAt,
    ExpiresAt: k.expiresAt,
    RevokedAt: k.revokedAt,
  };
}

/** The scopes a principal holds: a token's own; a signed-in user, or anyone on an open server, all. */
function heldScopes(p: Principal | undefined): readonly ApiKeyScope[] {
  if (p === undefined) return [];
  return p.kind === 'token' ? p.scopes : API_KEY_SCOPES;
}

export function apiKeyRoutes(deps: KeyRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { keys } = deps;

  // The access policy asks for manage on these paths already (requiredScope); checked here too so
  // the rule does not rest on two spellings of one path agreeing.
  const manageOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!heldScopes(c.get('principal')).includes('manage'))
      throw new HttpProblem('forbidden', 'API keys need the manage scope.');
    await next();
  };
  app.use('/keys', manageOnly);
  app.use('/keys/*', manageOnly);

  const find = async (raw: string) => {
    const id = validate(keyParam, raw, 'key ID');
    const key = await keys.apiKey(id);
    if (!key) throw new HttpProblem('not-found', `There is no key ${id}.`);
    return key;
  };

  app.get('/keys', async (c) => {
    const q = validate(keyListQuery, c.req.query(), 'query');
    const now = deps.now();
    return c.json({ keys: (await keys.apiKeys(q)).map((k) => present(k, now)) });
  });

  app.post('/keys', async (c) => {
    const body = validate(keyBody, await readJsonBody(c.req), 'key');
    const now = deps.now();
    if (body.ExpiresAt !== undefined && Date.parse(body.ExpiresAt) <= now)
      throw new HttpProblem('bad-request', 'Invalid key: ExpiresAt: must be in the future');
    const principal = c.get('principal');
    const held = heldScopes(principal);
    const beyond = body.Scopes.filter((s) => !held.includes(s));
    if (beyond.length > 0) {
      throw new HttpProblem(
        'forbidden',
        `These credentials may ${held.join(', ')}; they cannot make a key that may ${[...new Set(beyond)].join(', ')}.`,
      );
    }
    const issued = await issueApiKey((k, max) => keys.createApiKey(k, max), {
      name: body.Name,
      scopes: body.Scopes,
      expiresAt: body.ExpiresAt ?? null,
      now,
    });
    if (issued.outcome === 'limit')
      throw new HttpProblem('conflict', 'There are as many active keys as allowed; revoke one first.');
    c.get('log').info(
      {
        key: issued.key.id,
        scopes: issued.key.scopes,
        by: principal?.kind === 'anonymous' ? null : principal?.name,
      },
      'API key created',
    );
    // The secret is in this body only: no cache may keep it.
    c.header('Cache-Control', 'no-store');
    return c.json({ ...present(issued.key, now), Key: issued.token }, 201);
  });

  app.get('/keys/:id', async (c) => c.json(present(await find(c.req.param('id')), deps.now())));

  app.delete('/keys/:id', async (c) => {
    const id = validate(keyParam, c.req.param('id'), 'key ID');
    const key = await keys.revokeApiKey(id, new Date(deps.now()).toISOString());
    if (!key) throw new HttpProblem('not-found', `There is no key ${id}.`);
    deps.onRevoked(id);
    const principal = c.get('principal');
    c.get('log').info(
      { key: id, by: principal?.kind === 'anonymous' ? null : principal?.name },
      'API key revoked',
    );
    return c.text('ok');
  });

  return app;
}
