/**
 * Splits text that arrives in pieces (LLM chunks) into sentences as soon as each one is surely
 * finished, so its speech can be synthesized while later text is still being generated.
 *
 * A boundary is a run of terminators (. ! ? … and their CJK, Arabic and Devanagari forms),
 * optionally followed by closing quotes or brackets, then white space and the start of the next
 * sentence. Not boundaries: decimals and dotted acronyms (no space after the dot), known
 * abbreviations and initials ("Dr. Smith", "J. R. R."), and a terminator followed by a
 * lower-case word ("etc. and", "Well... maybe"). Full-width CJK terminators need no space.
 * A boundary is only decided once the next non-space character is known; `flush` returns the rest.
 */

const TERMINATORS = new Set(['.', '!', '?', '…', '。', '！', '？', '؟', '۔', '।', '॥']);
/** Terminators that end a sentence without a following space (CJK full-width forms). */
const SPACELESS_TERMINATORS = new Set(['。', '！', '？']);
const CLOSERS = new Set(['"', "'", ')', ']', '}', '»', '”', '’', '」', '』', '）', '】']);

/** Lower-cased, without the final dot. Common in the tutoring languages. */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'approx',
  'no',
  'nr',
  'vol',
  'sra',
  'srta',
  'dra',
  'ud',
  'uds',
  'av',
  'avda',
  'pág',
  'núm',
  'mme',
  'mlle',
  'm',
  'env',
  'cf',
  'hr',
  'fr',
  'frau',
  'z.b',
  'd.h',
  'bzw',
  'usw',
  'ca',
  'nr',
  'sig',
  'sigg',
  'dott',
  'ecc',
  'a.m',
  'p.m',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
]);

/** A sentence and where it starts in the whole text pushed so far. */
export interface SentenceSpan {
  sentence: string;
  start: number;
}

export class SentenceSplitter {
  private buffer = '';
  /** Characters of the whole text before the buffer. */
  private consumed = 0;

  /** Adds text; returns the sentences it completed, in order (trimmed, never empty). */
  push(text: string): string[] {
    return this.pushSpans(text).map((span) => span.sentence);
  }

  /** As `push`, with where each sentence starts in the whole text. */
  pushSpans(text: string): SentenceSpan[] {
    this.buffer += text;
    const sentences: SentenceSpan[] = [];
    for (let end = this.nextBoundary(); end !== undefined; end = this.nextBoundary()) {
      const span = this.take(end);
      if (span) sentences.push(span);
    }
    return sentences;
  }

  /** The unfinished rest (the end of the text ends its last sentence), or undefined if none. */
  flush(): string | undefined {
    return this.flushSpan()?.sentence;
  }

  flushSpan(): SentenceSpan | undefined {
    return this.take(this.buffer.length);
  }

  /** Removes the buffer's first `end` characters; the sentence in them, trimmed, if not empty. */
  private take(end: number): SentenceSpan | undefined {
    const raw = this.buffer.slice(0, end);
    const start = this.consumed + (raw.length - raw.trimStart().length);
    this.buffer = this.buffer.slice(end);
    this.consumed += end;
    const sentence = raw.trim();
    return sentence ? { sentence, start } : undefined;
  }

  /** End index (exclusive) of the first finished sentence in the buffer, if one is certain. */
  private nextBoundary(): number | undefined {
    const text = this.buffer;
    for (let i = 0; i < text.length; i++) {
      if (!TERMINATORS.has(text[i]!)) continue;
      let end = i;
      while (end < text.length && TERMINATORS.has(text[end]!)) end++;
      while (end < text.length && CLOSERS.has(text[end]!)) end++;
      if (SPACELESS_TERMINATORS.has(text[end - 1]!) || SPACELESS_TERMINATORS.has(text[i]!)) {
        // A full-width terminator ends the sentence without a space; wait only in case a
        // closing bracket is still to come.
        return end === text.length ? undefined : end;
      }
      if (end === text.length) return undefined; // what follows is not known yet
      if (!/\s/.test(text[end]!)) {
        i = end - 1; // "3.14", "U.S.A", "?!x": not a boundary
        continue;
      }
      let next = end;
      while (next < text.length && /\s/.test(text[next]!)) next++;
      if (next === text.length) return undefined; // wait for the next sentence's first letter
      if (this.isAbbreviation(text, i) || startsLowercase(text[next]!)) {
        i = end - 1;
        continue;
      }
      return end;
    }
    return undefined;
  }

  private isAbbreviation(text: string, dotIndex: number): boolean {
    if (text[dotIndex] !== '.' || text[dotIndex + 1] === '.') return false;
    const word = /([\p{L}.]+)$/u.exec(text.slice(0, dotIndex))?.[1]?.toLowerCase();
    if (!word) return false;
    // A single letter is an initial ("J. Smith"); dotted words ("e.g") are listed without the final dot.
    return word.length === 1 || ABBREVIATIONS.has(word);
  }
}

function startsLowercase(char: string): boolean {
  return char !== char.toUpperCase() && char === char.toLowerCase();
}
