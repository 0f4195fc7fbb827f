import { FEEDBACK_JSON_SCHEMA, FEEDBACK_LIMITS, feedbackSchema } from './feedback.js';
import { JSON_SCHEMA_LIMITS } from './json-schema.js';
import { chatRequestSchema } from './llm.js';
import { parsePayload } from './validation.js';

const chat = (responseFormat: unknown) => ({
  request_id: 'abcdefgh',
  messages: [{ role: 'user', content: 'Hola' }],
  response_format: responseFormat,
});
const withSchema = (schema: unknown) => chat({ type: 'json_schema', schema });
const parse = (payload: unknown) => parsePayload(chatRequestSchema, payload, 'chat request');
const object = (properties: Record<string, unknown>) => ({ type: 'object', properties });

describe('a chat request with a response_format', () => {
  it('accepts the feedback schema, json_object, and every supported keyword', () => {
    expect(parse(withSchema(FEEDBACK_JSON_SCHEMA)).response_format).toEqual({
      type: 'json_schema',
      schema: FEEDBACK_JSON_SCHEMA,
    });
    expect(parse(chat({ type: 'json_object' })).response_format).toEqual({ type: 'json_object' });
    const everything = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'all',
      ...object({
        text: { type: 'string', minLength: 1, maxLength: 10, description: 'a word' },
        count: { type: 'integer' },
        ratio: { type: 'number' },
        ok: { type: 'boolean' },
        nothing: { type: 'null' },
        mood: { type: 'string', enum: ['happy', 'sad'] },
        version: { const: 2 },
        list: { type: 'array', items: object({ a: { type: 'boolean' } }), minItems: 0, maxItems: 3 },
      }),
      required: ['text', 'count', 'ratio', 'ok', 'nothing', 'mood', 'version', 'list'],
      additionalProperties: false,
    };
    expect(() => parse(withSchema(everything))).not.toThrow();
  });

  it('refuses strings without maxLength and arrays without maxItems, saying where and why', () => {
    const schema = object({
      word: { type: 'string' },
      words: { type: 'array', items: { type: 'string', maxLength: 5 } },
    });
    expect(() => parse(withSchema(schema))).toThrow(
      "Invalid chat request: response_format.schema.properties.word.maxLength: a string needs 'maxLength' (an integer 0-4000): " +
        'unbounded strings never end on small models; response_format.schema.properties.words.maxItems: ' +
        "an array needs 'maxItems' (an integer 0-256): unbounded arrays may never end",
    );
  });

  it('refuses bounds beyond the limits and minimums above their maximums', () => {
    expect(() =>
      parse(withSchema(object({ a: { type: 'string', maxLength: JSON_SCHEMA_LIMITS.maxStringLength + 1 } }))),
    ).toThrow(/a\.maxLength/);
    expect(() => parse(withSchema(object({ a: { type: 'string', maxLength: 3, minLength: 4 } })))).toThrow(
      /a\.minLength: must be an integer no greater than 'maxLength'/,
    );
    expect(() => parse(withSchema(object({ a: { type: 'array', items: { type: 'null' }, maxItems: 2.5 } })))).toThrow(
      /a\.maxItems/,
    );
  });

  it('refuses keywords outside the subset, naming them', () => {
    expect(() => parse(withSchema(object({ a: { type: 'string', maxLength: 3, pattern: '^x' } })))).toThrow(
      /properties\.a\.pattern: 'pattern' is not supported here \(supported: type, maxLength, minLength\)/,
    );
    expect(() => parse(withSchema(object({ a: { anyOf: [{ type: 'null' }] } })))).toThrow(
      /properties\.a: needs 'type'/,
    );
    expect(() => parse(withSchema(object({ a: { $ref: '#/$defs/x' } })))).toThrow(/properties\.a: needs 'type'/);
    expect(() => parse(withSchema({ ...object({}), additionalProperties: true }))).toThrow(
      /additionalProperties: only false/,
    );
    expect(() =>
      parse(withSchema({ ...object({ a: { type: 'null' }, b: { type: 'null' } }), required: ['a'] })),
    ).toThrow(/required: every property is required/);
    expect(() => parse(withSchema(object({ a: { enum: [] } })))).toThrow(/a\.enum: must list 1-64/);
    expect(() => parse(withSchema(object({ a: { const: { x: 1 } } })))).toThrow(
      /a\.const: must be a string, number, boolean or null/,
    );
  });

  it('refuses a root that is not an object, a schema nested too deep, and one too large', () => {
    expect(() => parse(withSchema({ type: 'string', maxLength: 3 }))).toThrow(
      /schema\.type: the root must be an object schema/,
    );
    let deep: Record<string, unknown> = { type: 'null' };
    for (let i = 0; i <= JSON_SCHEMA_LIMITS.maxDepth; i++) deep = object({ a: deep });
    expect(() => parse(withSchema(deep))).toThrow(/nests deeper than 8 levels/);
    const huge = object(
      Object.fromEntries(
        Array.from({ length: 60 }, (_, i) => [`p${i}`, { type: 'string', maxLength: 1, description: 'x'.repeat(300) }]),
      ),
    );
    expect(() => parse(withSchema(huge))).toThrow(/schema: must be at most 16384 characters as JSON/);
  });

  it('refuses an unknown response_format type with the accepted ones', () => {
    expect(() => parse(chat({ type: 'yaml' }))).toThrow(
      /response_format\.type: 'type' must be 'json_object' or 'json_schema'/,
    );
    expect(() => parse(chat({ type: 'json_schema' }))).toThrow(/response_format\.schema: must be a JSON schema object/);
  });
});

describe('the feedback event schema', () => {
  it('is the zod schema as JSON schema, every string and list bounded', () => {
    expect(FEEDBACK_JSON_SCHEMA).toMatchObject({
      type: 'object',
      required: ['corrections', 'translation', 'vocabulary'],
      additionalProperties: false,
      properties: {
        corrections: {
          type: 'array',
          maxItems: FEEDBACK_LIMITS.maxCorrections,
          items: {
            properties: {
              original: { type: 'string', maxLength: FEEDBACK_LIMITS.phraseChars },
              corrected: { type: 'string', maxLength: FEEDBACK_LIMITS.phraseChars },
              explanation: { type: 'string', maxLength: FEEDBACK_LIMITS.explanationChars },
            },
          },
        },
        translation: { type: 'string', maxLength: FEEDBACK_LIMITS.translationChars },
        vocabulary: {
          type: 'array',
          maxItems: FEEDBACK_LIMITS.maxVocabulary,
          items: {
            properties: {
              word: { maxLength: FEEDBACK_LIMITS.wordChars },
              translation: { maxLength: FEEDBACK_LIMITS.wordTranslationChars },
            },
          },
        },
      },
    });
    expect(FEEDBACK_JSON_SCHEMA).not.toHaveProperty('$schema');
  });

  it('accepts a feedback payload and refuses one beyond its bounds', () => {
    const feedback = {
      corrections: [{ original: 'yo es', corrected: 'yo soy', explanation: 'ser: soy for I' }],
      translation: 'Hello! How are you?',
      vocabulary: [{ word: 'hola', translation: 'hello' }],
    };
    expect(feedbackSchema.parse(feedback)).toEqual(feedback);
    expect(
      feedbackSchema.safeParse({ ...feedback, translation: 'x'.repeat(FEEDBACK_LIMITS.translationChars + 1) }).success,
    ).toBe(false);
    const tooMany = Array.from({ length: FEEDBACK_LIMITS.maxVocabulary + 1 }, () => feedback.vocabulary[0]);
    expect(feedbackSchema.safeParse({ ...feedback, vocabulary: tooMany }).success).toBe(false);
  });
});
