import { z } from 'zod';

/**
 * The JSON Schema subset a chat request may constrain its answer with (`response_format`).
 *
 * It is the part of JSON Schema that node-llama-cpp's grammar enforces token by token, with one
 * rule more: every string needs `maxLength` and every array `maxItems`. A small model inside a
 * grammar fills an unbounded string forever (measured on the generated test model: still
 * unterminated after 300 tokens), so an unbounded schema is refused instead of running into the
 * token limit. Objects list every property and all of them are required (as in OpenAI's strict
 * mode, and as node-llama-cpp generates them); the root is an object (as OpenAI requires).
 */
export type JsonSchema =
  | { type: 'string'; maxLength: number; minLength?: number; description?: string }
  | { type: 'number' | 'integer' | 'boolean' | 'null'; description?: string }
  | { type: 'array'; items: JsonSchema; maxItems: number; minItems?: number; description?: string }
  | {
      type: 'object';
      properties: Record<string, JsonSchema>;
      required?: string[];
      additionalProperties?: false;
      description?: string;
    }
  | { enum: (string | number | boolean | null)[]; type?: string; description?: string }
  | { const: string | number | boolean | null; type?: string; description?: string };

export type JsonObjectSchema = Extract<JsonSchema, { type: 'object' }>;

export const JSON_SCHEMA_LIMITS = {
  /** The schema as JSON text. */
  maxChars: 16_384,
  /** Nesting of objects and arrays. */
  maxDepth: 8,
  maxPropertiesPerObject: 64,
  maxEnumValues: 64,
  maxStringLength: 4000,
  maxItems: 256,
} as const;

/** Keys that only document a schema; allowed anywhere and ignored. */
const ANNOTATIONS = ['description', 'title', '$schema'];
const KEYS_BY_TYPE: Record<string, string[]> = {
  string: ['type', 'maxLength', 'minLength'],
  number: ['type'],
  integer: ['type'],
  boolean: ['type'],
  null: ['type'],
  array: ['type', 'items', 'maxItems', 'minItems'],
  object: ['type', 'properties', 'required', 'additionalProperties'],
};
const isPrimitive = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown, max: number) =>
  Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max;

interface Problem {
  path: (string | number)[];
  message: string;
}

/** Every reason `schema` is outside the supported subset, each with where it is. */
function findSchemaProblems(schema: unknown, path: (string | number)[] = [], depth = 0): Problem[] {
  const problem = (message: string, at: (string | number)[] = path): Problem[] => [{ path: at, message }];
  if (!isRecord(schema)) return problem('must be a JSON schema object');
  if (depth > JSON_SCHEMA_LIMITS.maxDepth) return problem(`nests deeper than ${JSON_SCHEMA_LIMITS.maxDepth} levels`);
  const unknownKeys = (allowed: string[]) =>
    Object.keys(schema)
      .filter((key) => !allowed.includes(key) && !ANNOTATIONS.includes(key))
      .flatMap((key) => problem(`'${key}' is not supported here (supported: ${allowed.join(', ')})`, [...path, key]));

  if ('const' in schema) {
    return [
      ...unknownKeys(['const', 'type']),
      ...(isPrimitive(schema.const) ? [] : problem('must be a string, number, boolean or null', [...path, 'const'])),
    ];
  }
  if ('enum' in schema) {
    const values = schema.enum;
    const valid =
      Array.isArray(values) &&
      values.length > 0 &&
      values.length <= JSON_SCHEMA_LIMITS.maxEnumValues &&
      values.every(isPrimitive);
    return [
      ...unknownKeys(['enum', 'type']),
      ...(valid
        ? []
        : problem(`must list 1-${JSON_SCHEMA_LIMITS.maxEnumValues} strings, numbers, booleans or nulls`, [
            ...path,
            'enum',
          ])),
    ];
  }
  const type = schema.type;
  if (typeof type !== 'string' || !(type in KEYS_BY_TYPE)) {
    return problem(`needs 'type' (one of ${Object.keys(KEYS_BY_TYPE).join(', ')}), 'enum' or 'const'`);
  }
  const problems = unknownKeys(KEYS_BY_TYPE[type]!);
  if (type === 'string') {
    if (!isCount(schema.maxLength, JSON_SCHEMA_LIMITS.maxStringLength)) {
      problems.push(
        ...problem(
          `a string needs 'maxLength' (an integer 0-${JSON_SCHEMA_LIMITS.maxStringLength}): unbounded strings never end on small models`,
          [...path, 'maxLength'],
        ),
      );
    }
    if (
      schema.minLength !== undefined &&
      !(
        isCount(schema.minLength, JSON_SCHEMA_LIMITS.maxStringLength) &&
        Number(schema.minLength) <= Number(schema.maxLength)
      )
    ) {
      problems.push(...problem("must be an integer no greater than 'maxLength'", [...path, 'minLength']));
    }
  }
  if (type === 'array') {
    if (!isCount(schema.maxItems, JSON_SCHEMA_LIMITS.maxItems)) {
      problems.push(
        ...problem(
          `an array needs 'maxItems' (an integer 0-${JSON_SCHEMA_LIMITS.maxItems}): unbounded arrays may never end`,
          [...path, 'maxItems'],
        ),
      );
    }
    if (
      schema.minItems !== undefined &&
      !(isCount(schema.minItems, JSON_SCHEMA_LIMITS.maxItems) && Number(schema.minItems) <= Number(schema.maxItems))
    ) {
      problems.push(...problem("must be an integer no greater than 'maxItems'", [...path, 'minItems']));
    }
    if (schema.items === undefined)
      problems.push(...problem("an array needs 'items' (the schema of every item)", [...path, 'items']));
    else problems.push(...findSchemaProblems(schema.items, [...path, 'items'], depth + 1));
  }
  if (type === 'object') {
    const properties = schema.properties;
    if (!isRecord(properties) || Object.keys(properties).length > JSON_SCHEMA_LIMITS.maxPropertiesPerObject) {
      return [
        ...problems,
        ...problem(`an object needs 'properties' (at most ${JSON_SCHEMA_LIMITS.maxPropertiesPerObject})`, [
          ...path,
          'properties',
        ]),
      ];
    }
    const names = Object.keys(properties);
    const required = schema.required;
    if (
      required !== undefined &&
      !(Array.isArray(required) && required.length === names.length && names.every((name) => required.includes(name)))
    ) {
      problems.push(
        ...problem('every property is required: list all of them, or leave out required', [...path, 'required']),
      );
    }
    if (schema.additionalProperties !== undefined && schema.additionalProperties !== false) {
      problems.push(
        ...problem('only false is supported (extra properties would be unbounded)', [...path, 'additionalProperties']),
      );
    }
    for (const name of names)
      problems.push(...findSchemaProblems(properties[name], [...path, 'properties', name], depth + 1));
  }
  return problems;
}

/**
 * A caller's JSON schema, checked against the supported subset and its bounds. Each problem is
 * reported with its place in the schema (`properties.word.maxLength: a string needs ...`).
 */
export const jsonSchemaSchema = z
  .unknown()
  .superRefine((schema, ctx) => {
    const chars = JSON.stringify(schema)?.length ?? 0;
    if (chars > JSON_SCHEMA_LIMITS.maxChars) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${JSON_SCHEMA_LIMITS.maxChars} characters as JSON (it has ${chars})`,
      });
      return;
    }
    if (isRecord(schema) && schema.type !== 'object') {
      ctx.addIssue({
        code: 'custom',
        message: 'the root must be an object schema ({"type":"object",...})',
        path: ['type'],
      });
    }
    for (const { path, message } of findSchemaProblems(schema)) ctx.addIssue({ code: 'custom', message, path });
  })
  .transform((schema) => schema as JsonObjectSchema);

/**
 * How a chat answer is shaped (the `response_format` of OpenAI's API): `json_object` is any JSON
 * object; `json_schema` is an object matching `schema`. Without it the answer is free text.
 */
export const responseFormatSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('json_object') }),
    z.object({ type: z.literal('json_schema'), schema: jsonSchemaSchema }),
  ],
  { error: "'type' must be 'json_object' or 'json_schema' (with 'schema')" },
);
export type ResponseFormat = z.infer<typeof responseFormatSchema>;
