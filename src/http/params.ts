// Query parameters shared by the endpoints' schemas.
import { z } from 'zod';

/** Query values arrive as strings; only plain decimal digits are accepted (no "1e3", "0x10", " 5"). */
export function decimal(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
}
