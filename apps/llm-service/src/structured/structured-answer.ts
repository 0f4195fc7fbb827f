import { ParleyError, type ResponseFormat, type StopReason } from '@parley/contracts';
import { findSchemaMismatch, isPlainObject } from './json-schema-check.js';

/**
 * The parsed answer of a structured generation (`response_format`), checked before it leaves the
 * service. Returns undefined when the JSON was cut by the token limit: the caller learns that from
 * the stop reason, and an incomplete answer is never passed on as a value. A complete answer that
 * does not parse or match could only come from a broken grammar: ENGINE_FAILED, never a value.
 */
export function readStructuredAnswer(
  text: string,
  format: ResponseFormat,
  stopReason: StopReason,
): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (stopReason === 'max_tokens') return undefined;
    throw new ParleyError('ENGINE_FAILED', `The model's answer is not valid JSON (${(error as Error).message}).`);
  }
  if (!isPlainObject(value)) throw new ParleyError('ENGINE_FAILED', "The model's answer is JSON but not an object.");
  if (format.type === 'json_schema') {
    const mismatch = findSchemaMismatch(format.schema, value);
    if (mismatch) throw new ParleyError('ENGINE_FAILED', `The model's answer does not match the schema: ${mismatch}.`);
  }
  return value;
}
