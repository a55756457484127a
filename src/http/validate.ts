// Runs a zod schema over request input and turns a failure into a 400 problem whose detail names
// the offending fields, so clients learn what to fix without a stack trace.
import type { z } from 'zod';
import { HttpProblem } from './errors.ts';

export function validate<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new HttpProblem('bad-request', `Invalid ${what}: ${issues.join('; ')}`);
}

/** Reads a JSON body; an empty body yields `undefined` so callers can apply Mailpit's defaults. */
export async function readJsonBody(req: { text(): Promise<string> }): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpProblem('bad-request', 'The request body is not valid JSON.');
  }
}
