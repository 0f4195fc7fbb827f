import { decodeBinaryFrame, encodeBinaryFrame, isBinaryFrame } from './binary-frame.js';
import { DIFFICULTIES, LANGUAGES, SCENARIOS } from './catalog.js';
import { chatRequestSchema } from './llm.js';
import { buildSystemPrompt } from './prompt.js';
import { parsePayload } from './validation.js';
import { detectContainer, sniffContainer } from './audio-container.js';
import { textTurnRequestSchema } from './http.js';

describe('the tutoring catalog', () => {
  it('has the 18 languages, 9 scenarios and 3 difficulties of the API', () => {
    expect(Object.keys(LANGUAGES)).toEqual(['en', 'es', 'fr', 'de', 'it', 'pt', 'ja', 'zh', 'ko', 'ar', 'nl', 'ru', 'th', 'vi', 'tr', 'el', 'pl', 'hi']);
    expect(Object.keys(SCENARIOS)).toEqual([
      'greeting', 'restaurant', 'directions', 'shopping', 'hotel', 'transportation', 'emergency', 'small_talk', 'sightseeing',
    ]);
    expect(DIFFICULTIES).toEqual(['beginner', 'intermediate', 'advanced']);
  });
});

describe('buildSystemPrompt', () => {
  it('names the language and scenario, and asks beginners for English with translated phrases', () => {
    const prompt = buildSystemPrompt({ language: 'fr', difficulty: 'beginner', scenario: 'restaurant' });
    expect(prompt).toContain('French');
    expect(prompt).toContain(SCENARIOS.restaurant);
    expect(prompt).toMatch(/mostly in English/);
    expect(prompt).toMatch(/1-3 short sentences/);
  });

  it('asks advanced learners to be answered in the target language only', () => {
    const prompt = buildSystemPrompt({ language: 'de', difficulty: 'advanced', scenario: 'hotel' });
    expect(prompt).toMatch(/natural German only/);
    expect(prompt).not.toMatch(/mostly in English/);
  });
});

describe('payload validation', () => {
  it('refuses a chat whose last message is not the user', () => {
    expect(() =>
      parsePayload(chatRequestSchema, { request_id: 'abcdefgh', messages: [{ role: 'assistant', content: 'hi' }] }, 'chat request'),
    ).toThrow(/Invalid chat request: messages: the last message must be from the user/);
  });

  it('fills the defaults of a text turn and trims the message', () => {
    expect(parsePayload(textTurnRequestSchema, { message: '  Hola  ' })).toEqual({
      message: 'Hola',
      language: 'en',
      difficulty: 'beginner',
      scenario: 'greeting',
    });
  });
});

describe('binary frames', () => {
  it('carries byte fields raw next to the JSON and restores them', () => {
    const pcm = new Uint8Array([1, 2, 3, 250]);
    const frame = encodeBinaryFrame({ response: { type: 'audio', seq: 3, pcm }, id: 'x' });
    expect(isBinaryFrame(frame)).toBe(true);
    expect(frame.byteLength).toBeLessThan(80);
    const decoded = decodeBinaryFrame(frame) as { response: { pcm: Uint8Array; seq: number }; id: string };
    expect(decoded.id).toBe('x');
    expect(decoded.response.seq).toBe(3);
    expect([...decoded.response.pcm]).toEqual([1, 2, 3, 250]);
  });

  it('refuses a frame whose byte reference points past its end', () => {
    const frame = encodeBinaryFrame({ pcm: new Uint8Array(10) });
    expect(() => decodeBinaryFrame(frame.subarray(0, frame.byteLength - 5))).toThrow(/out of range/);
  });
});

describe('audio container sniffing', () => {
  const bytes = (...values: Array<number | string>) =>
    new Uint8Array(values.flatMap((v) => (typeof v === 'string' ? [...v].map((c) => c.charCodeAt(0)) : [v])));

  it.each([
    ['wav', bytes('RIFF', 0, 0, 0, 0, 'WAVE')],
    ['webm', bytes(0x1a, 0x45, 0xdf, 0xa3, 0, 0)],
    ['ogg', bytes('OggS', 0, 2)],
    ['mp3', bytes('ID3', 4, 0, 0, 0, 0, 0, 0)],
    ['mp4', bytes(0, 0, 0, 0x20, 'ftypM4A ')],
  ])('recognises %s from its first bytes', (container, head) => {
    expect(sniffContainer(head)).toBe(container);
  });

  it('refuses text as not audio, and empty input as empty', () => {
    expect(() => detectContainer(bytes('<html>hello</html>'))).toThrow(/not an audio file.*looks like text/);
    expect(() => detectContainer(new Uint8Array(0))).toThrow(/empty/);
  });
});
