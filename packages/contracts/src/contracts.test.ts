import { chatRequestSchema } from './llm.js';
import { parsePayload } from './validation.js';
import { synthesizeHttpRequestSchema, textTurnRequestSchema } from './http.js';

describe('payload validation', () => {
  it('refuses a chat whose last message is not the user', () => {
    expect(() =>
      parsePayload(
        chatRequestSchema,
        { request_id: 'abcdefgh', messages: [{ role: 'assistant', content: 'hi' }] },
        'chat request',
      ),
    ).toThrow(/Invalid chat request: messages: the last message must be from the user/);
  });

  it('fills the defaults of a text turn and trims the message', () => {
    expect(parsePayload(textTurnRequestSchema, { message: '  Hola  ' })).toEqual({
      message: 'Hola',
      language: 'en',
      difficulty: 'beginner',
      scenario: 'greeting',
      feedback: false,
      native_language: 'en',
    });
  });

  it.each([
    ['control characters', 'Hola\u0000\u0007', /message: must not contain control characters/],
    ['a C1 control character', 'Hola\u0085', /message: must not contain control characters/],
    ['U+FFFD (bytes that were not UTF-8)', 'Hola \uFFFD\uFFFD', /message: is not valid UTF-8 text/],
  ])('refuses a message with %s', (_what, message, error) => {
    expect(() => parsePayload(textTurnRequestSchema, { message }, 'request')).toThrow(error);
  });

  it('accepts a message with tabs, line breaks and emoji', () => {
    expect(parsePayload(textTurnRequestSchema, { message: 'Hola\t¿qué tal?\r\nBien 🙂' }).message).toBe('Hola\t¿qué tal?\r\nBien 🙂');
  });

  it.each([['\u0001\u0002'], ['...!?'], ['🙂 ***']])('refuses synthesis of %j: there is nothing to speak', (text) => {
    expect(() => parsePayload(synthesizeHttpRequestSchema, { text }, 'request')).toThrow(/text: has nothing to speak/);
  });

  it('accepts text with a letter or a digit in any script', () => {
    for (const text of ['Hola.', '42', '你好', 'مرحبا', 'नमस्ते']) {
      expect(parsePayload(synthesizeHttpRequestSchema, { text }, 'request').text).toBe(text);
    }
  });
});
