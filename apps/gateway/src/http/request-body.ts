import { ParleyError, parsePayload } from '@parley/contracts';
import type { z } from 'zod';

/**
 * Validates a request body. A body the framework could not read (no body, or a Content-Type such
 * as text/plain that no parser takes) arrives as undefined; say so, rather than the schema's
 * "expected object, received undefined", so the caller knows to fix the Content-Type.
 */
export function parseRequestBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined) {
    throw new ParleyError(
      'INVALID_REQUEST',
      'Invalid request: no body that can be read: send a JSON object with Content-Type: application/json (or a multipart/form-data or urlencoded form where the route takes one)',
    );
  }
  return parsePayload(schema, body, 'request');
}
