import { SentenceSplitter } from './sentence-splitter.js';

/** Feeds text in pieces of `size` characters, as an LLM streams it, and collects the sentences. */
function split(text: string, size = 3): string[] {
  const splitter = new SentenceSplitter();
  const sentences: string[] = [];
  for (let i = 0; i < text.length; i += size) sentences.push(...splitter.push(text.slice(i, i + size)));
  const rest = splitter.flush();
  return rest ? [...sentences, rest] : sentences;
}

describe('SentenceSplitter', () => {
  it.each([
    ['plain sentences', 'Hello there. How are you? I am fine!', ['Hello there.', 'How are you?', 'I am fine!']],
    ['Spanish inverted marks', '¡Hola! ¿Cómo estás? Muy bien.', ['¡Hola!', '¿Cómo estás?', 'Muy bien.']],
    ['decimals', 'It costs 3.50 euros. Cheap!', ['It costs 3.50 euros.', 'Cheap!']],
    [
      'abbreviations',
      'Dr. Smith lives on Main St. near the park. Nice.',
      ['Dr. Smith lives on Main St. near the park.', 'Nice.'],
    ],
    ['Spanish abbreviations', 'La Sra. García llega. Vale.', ['La Sra. García llega.', 'Vale.']],
    ['dotted abbreviations', 'Bring fruit, e.g. apples. Thanks.', ['Bring fruit, e.g. apples.', 'Thanks.']],
    ['initials', 'I read J. R. R. Tolkien. Great.', ['I read J. R. R. Tolkien.', 'Great.']],
    ['acronyms', 'He moved to the U.S.A. last year. Wow.', ['He moved to the U.S.A. last year.', 'Wow.']],
    ['an ellipsis before a lower-case word', 'Well... maybe not. Okay.', ['Well... maybe not.', 'Okay.']],
    ['an ellipsis ending a sentence', 'I wonder... Yes!', ['I wonder...', 'Yes!']],
    ['the ellipsis character', 'Hmm… Sí.', ['Hmm…', 'Sí.']],
    ['?! runs', 'Really?! No way.', ['Really?!', 'No way.']],
    ['closing quotes', 'She said "Hi." Then left.', ['She said "Hi."', 'Then left.']],
    ['Chinese', '你好。你叫什么名字？我叫安娜！', ['你好。', '你叫什么名字？', '我叫安娜！']],
    ['Japanese with a closing bracket', '「こんにちは。」元気ですか？', ['「こんにちは。」', '元気ですか？']],
    ['Arabic question mark', 'مرحبا؟ أنا بخير.', ['مرحبا؟', 'أنا بخير.']],
    ['Hindi danda', 'नमस्ते। आप कैसे हैं?', ['नमस्ते।', 'आप कैसे हैं?']],
    ['text without a terminator', 'Hello there', ['Hello there']],
    ['newlines between sentences', 'One.\n\nTwo.', ['One.', 'Two.']],
  ])('splits %s', (_name, text, expected) => {
    expect(split(text)).toEqual(expected);
    expect(split(text, 1)).toEqual(expected);
    expect(split(text, 1000)).toEqual(expected);
  });

  it('releases a sentence as soon as the next one starts, before the text is complete', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Hola.')).toEqual([]);
    expect(splitter.push(' ')).toEqual([]);
    expect(splitter.push('¿Qué')).toEqual(['Hola.']);
    expect(splitter.push(' tal?')).toEqual([]);
    expect(splitter.flush()).toBe('¿Qué tal?');
  });

  it('returns nothing for empty or blank text', () => {
    expect(split('')).toEqual([]);
    expect(split('   \n ')).toEqual([]);
  });
});
