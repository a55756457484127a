// The one catalogue of HTTP API errors. Every error response is RFC 9457 problem details
// (`application/problem+json` with type, title, status, detail); handlers throw `HttpProblem` and
// the app's error handler renders it, so no route writes its own error body.

/** Problem codes → status and a fixed human title (RFC 9457 §3.1.3: the title does not vary). */
export const PROBLEMS = {
  'bad-request': { status: 400, title: 'The request is not valid' },
  'not-found': { status: 404, title: 'No such resource' },
  'message-not-found': { status: 404, title: 'No such message' },
  'part-not-found': { status: 404, title: 'No such message part' },
  'not-configured': { status: 404, title: 'This feature is not configured' },
  unauthorized: { status: 401, title: 'Credentials are required' },
  forbidden: { status: 403, title: 'The request is not allowed' },
  'misdirected-request': { status: 421, title: 'This server does not answer for that host name' },
  'bad-gateway': { status: 502, title: 'A service Mailroom depends on failed' },
  'gateway-timeout': { status: 504, title: 'A service Mailroom depends on did not answer in time' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  'message-too-large': { status: 413, title: 'The message would be larger than the size limit' },
  conflict: { status: 409, title: 'The resource is not in a state that allows this' },
  'idempotency-conflict': { status: 409, title: 'The idempotency key was used for another request' },
  'not-ready': { status: 503, title: 'The service is not ready' },
  'wait-timeout': { status: 408, title: 'No matching message arrived in time' },
  'too-many-waiters': { status: 503, title: 'Too many requests are waiting already' },
  internal: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 §3.1.1: a URI identifying the problem type; a URN needs no network host to resolve. */
export function problemType(code: ProblemCode): string {
  return `urn:mailroom:problem:${code}`;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
}

export class HttpProblem extends Error {
  readonly code: ProblemCode;
  readonly detail: string;

  constructor(code: ProblemCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'HttpProblem';
    this.code = code;
    this.detail = detail;
  }

  get status(): number {
    return PROBLEMS[this.code].status;
  }

  body(): ProblemBody {
    const p = PROBLEMS[this.code];
    return { type: problemType(this.code), title: p.title, status: p.status, detail: this.detail };
  }
}

/** A ready Response for a problem; used by the error handler and by middleware that answers early. */
export function problemResponse(code: ProblemCode, detail: string): Response {
  const problem = new HttpProblem(code, detail);
  return new Response(JSON.stringify(problem.body()), {
    status: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE },
  });
}
