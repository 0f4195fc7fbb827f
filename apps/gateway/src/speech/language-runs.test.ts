import { MarkerStripper, runsWithoutMarkers } from './language-runs.js';

const ANSWER = 'Say <t>Hola, ¿qué tal?</t> (Hello, how are you?). Then <t>gracias</t>. Bye <3 </b>';
const CLEAN = 'Say Hola, ¿qué tal? (Hello, how are you?). Then gracias. Bye <3 </b>';

/** Streams `pieces` through a stripper: the clean chunks, and the stripper. */
function strip(pieces: string[]) {
  const stripper = new MarkerStripper();
  const chunks = [...pieces.map((piece) => stripper.push(piece)), stripper.flush()];
  return { chunks, stripper };
}

describe('MarkerStripper', () => {
  it('never lets a marker through, however the answer is cut into chunks (every single boundary and every pair)', () => {
    for (let a = 0; a <= ANSWER.length; a++) {
      const cut = [ANSWER.slice(0, a), ANSWER.slice(a)];
      expect(strip(cut).chunks.join('')).toBe(CLEAN);
      for (let b = a; b <= ANSWER.length; b += 3) {
        const { chunks } = strip([ANSWER.slice(0, a), ANSWER.slice(a, b), ANSWER.slice(b)]);
        expect(chunks.join('')).toBe(CLEAN);
        for (const chunk of chunks) expect(chunk).not.toMatch(/<\/?t>/);
      }
    }
    // One character per chunk, as a model writes token by token.
    expect(strip([...ANSWER]).chunks.join('')).toBe(CLEAN);
  });

  it('knows which runs of the clean text were marked', () => {
    const { stripper } = strip([...ANSWER]);
    expect(stripper.marked).toBe(true);
    const first = CLEAN.indexOf('Then');
    expect(stripper.runsBetween(0, first)).toEqual([
      { text: 'Say', target: false },
      { text: 'Hola, ¿qué tal?', target: true },
      { text: '(Hello, how are you?).', target: false },
    ]);
    expect(stripper.runsBetween(first, CLEAN.indexOf('Bye'))).toEqual([
      { text: 'Then', target: false },
      { text: 'gracias', target: true },
      { text: '.', target: false },
    ]);
  });

  it('keeps an unfinished marker at the very end as text', () => {
    expect(strip(['Hola <', 't']).chunks.join('')).toBe('Hola <t');
    expect(strip(['Hola <t']).stripper.marked).toBe(false);
  });
});

describe('runsWithoutMarkers', () => {
  it('splits by script when the target language has its own', () => {
    expect(runsWithoutMarkers('Say こんにちは (hello), then ありがとう.', 'ja', 'en', true)).toEqual([
      { text: 'Say', target: false },
      { text: 'こんにちは', target: true },
      { text: '(hello), then', target: false },
      { text: 'ありがとう.', target: true },
    ]);
  });

  it('gives a Latin-script sentence to the native voice for beginners, else to the target voice', () => {
    expect(runsWithoutMarkers('Say hola.', 'es', 'en', true)).toEqual([{ text: 'Say hola.', target: false }]);
    expect(runsWithoutMarkers('Muy bien.', 'es', 'en', false)).toEqual([{ text: 'Muy bien.', target: true }]);
    expect(runsWithoutMarkers('Привет, мир.', 'ru', 'el', true)).toEqual([{ text: 'Привет, мир.', target: true }]);
  });
});
