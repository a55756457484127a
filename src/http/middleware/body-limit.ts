// Caps request bodies. The API only takes small JSON documents (lists of ids), so anything larger
// is refused with 413 before it is buffered, whether or not Content-Length was declared.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv } from '../deps.ts';
import { problemResponse } from '../errors.ts';

export const API_BODY_LIMIT = 1024 * 1024;

export function limitBody(maxSize = API_BODY_LIMIT): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => problemResponse('body-too-large', `Request bodies are limited to ${maxSize} bytes.`),
  });
}
