import { FEEDBACK_JSON_SCHEMA, type JsonSchema } from '@parley/contracts';
import { findSchemaMismatch } from './json-schema-check.js';

const feedback = {
  corrections: [{ original: 'yo es', corrected: 'yo soy', explanation: 'ser: soy for I' }],
  translation: 'Hello!',
  vocabulary: [{ word: 'hola', translation: 'hello' }],
};

describe('findSchemaMismatch', () => {
  it('accepts a value that matches, and says nothing', () => {
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, feedback)).toBeUndefined();
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { ...feedback, corrections: [], vocabulary: [] })).toBeUndefined();
  });

  it('names the place and the reason of the first mismatch in an object', () => {
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { ...feedback, translation: 'x'.repeat(401) })).toBe(
      'translation: longer than 400 characters',
    );
    expect(
      findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { ...feedback, vocabulary: [{ word: '', translation: 'x' }] }),
    ).toBe('vocabulary.0.word: shorter than 1 characters');
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { corrections: [], vocabulary: [] })).toBe(
      "the answer: misses the property 'translation'",
    );
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { ...feedback, extra: 1 })).toBe(
      "the answer: has the unexpected property 'extra'",
    );
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { ...feedback, corrections: {} })).toBe(
      'corrections: must be an array',
    );
    expect(
      findSchemaMismatch(FEEDBACK_JSON_SCHEMA, { ...feedback, corrections: Array(4).fill(feedback.corrections[0]) }),
    ).toBe('corrections: has more than 3 items');
    expect(findSchemaMismatch(FEEDBACK_JSON_SCHEMA, [])).toBe('the answer: must be an object');
  });

  it('counts characters, not UTF-16 units, as the grammar does', () => {
    const schema: JsonSchema = { type: 'string', maxLength: 2 };
    expect(findSchemaMismatch(schema, '😀😀')).toBeUndefined();
    expect(findSchemaMismatch(schema, '😀😀😀')).toBe('the answer: longer than 2 characters');
  });

  it('checks every scalar kind, enum and const', () => {
    const cases: [JsonSchema, unknown, unknown][] = [
      [{ type: 'integer' }, 3, 3.5],
      [{ type: 'number' }, 3.5, '3.5'],
      [{ type: 'boolean' }, false, 0],
      [{ type: 'null' }, null, 'null'],
      [{ enum: ['a', 1, null] }, 1, 'b'],
      [{ const: 'v2' }, 'v2', 'v1'],
      [{ type: 'array', items: { type: 'null' }, maxItems: 3, minItems: 1 }, [null], []],
    ];
    for (const [schema, good, bad] of cases) {
      expect(findSchemaMismatch(schema, good)).toBeUndefined();
      expect(findSchemaMismatch(schema, bad)).toMatch(/^the answer: /);
    }
  });
});
