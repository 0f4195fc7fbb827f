import { z } from 'zod';
import { ParleyError } from './errors.js';

/** One readable sentence from a zod error: `field: what is wrong; other: ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/**
 * Validates a payload at an edge (HTTP body, NATS handler, NATS reply). A mismatch is the caller's
 * mistake: an INVALID_REQUEST ParleyError whose message says what to fix.
 */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown, what = 'payload'): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ParleyError('INVALID_REQUEST', `Invalid ${what}: ${describeIssues(result.error)}`);
  }
  return result.data;
}
