import type { JsonSchema } from '@parley/contracts';

/**
 * Checks a value against a schema of the supported subset (`@parley/contracts` json-schema.ts).
 * Returns what is wrong and where (`corrections.0.original: longer than 120 characters`), or
 * undefined when the value matches.
 *
 * Why a validator of our own and not zod: callers send arbitrary schemas (the OpenAI route's
 * `response_format`), which have no zod counterpart. The subset is small and closed, so the check
 * is too. A caller that owns a zod schema (the gateway's feedback) validates again at its edge.
 */
export function findSchemaMismatch(schema: JsonSchema, value: unknown, path: string[] = []): string | undefined {
  const at = (message: string) => `${path.length ? path.join('.') : 'the answer'}: ${message}`;
  if ('const' in schema) return value === schema.const ? undefined : at(`must be ${JSON.stringify(schema.const)}`);
  if ('enum' in schema)
    return schema.enum.includes(value as never) ? undefined : at(`must be one of ${JSON.stringify(schema.enum)}`);
  switch (schema.type) {
    case 'string': {
      if (typeof value !== 'string') return at('must be a string');
      // JSON Schema counts characters (code points), as the grammar does.
      const length = [...value].length;
      if (length > schema.maxLength) return at(`longer than ${schema.maxLength} characters`);
      if (length < (schema.minLength ?? 0)) return at(`shorter than ${schema.minLength} characters`);
      return undefined;
    }
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : at('must be a number');
    case 'integer':
      return Number.isInteger(value) ? undefined : at('must be an integer');
    case 'boolean':
      return typeof value === 'boolean' ? undefined : at('must be true or false');
    case 'null':
      return value === null ? undefined : at('must be null');
    case 'array': {
      if (!Array.isArray(value)) return at('must be an array');
      if (value.length > schema.maxItems) return at(`has more than ${schema.maxItems} items`);
      if (value.length < (schema.minItems ?? 0)) return at(`has fewer than ${schema.minItems} items`);
      for (const [index, item] of value.entries()) {
        const mismatch = findSchemaMismatch(schema.items, item, [...path, String(index)]);
        if (mismatch) return mismatch;
      }
      return undefined;
    }
    case 'object': {
      if (!isPlainObject(value)) return at('must be an object');
      const names = Object.keys(schema.properties);
      const extra = Object.keys(value).find((key) => !names.includes(key));
      if (extra !== undefined) return at(`has the unexpected property '${extra}'`);
      for (const name of names) {
        if (!(name in value)) return at(`misses the property '${name}'`);
        const mismatch = findSchemaMismatch(schema.properties[name]!, value[name], [...path, name]);
        if (mismatch) return mismatch;
      }
      return undefined;
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
