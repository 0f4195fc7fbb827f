/**
 * Bilingual answers: a beginner's answer is mostly in their native language with short phrases
 * in the language practised. The tutor is asked to wrap each such phrase in markers
 * (`<t>Hola</t> (Hello)`); the markers never reach a client (stripped from every chunk as it
 * streams, even when one is split across chunks), and tell speech which voice speaks what.
 */
export const TARGET_OPEN = '<t>';
export const TARGET_CLOSE = '</t>';
const MARKERS = [TARGET_OPEN, TARGET_CLOSE];

/** A piece of a sentence in one language. */
export interface LanguageRun {
  text: string;
  /** In the language practised (else in the learner's native language). */
  target: boolean;
}

/** A sentence to speak, cut into runs of one language each (one run when it is all one language). */
export interface SpokenSentence {
  text: string;
  runs: LanguageRun[];
}

interface Span {
  start: number;
  end: number;
  target: boolean;
}

/** Streams the answer without its markers, remembering where each marked run lies in the clean text. */
export class MarkerStripper {
  private pending = '';
  private clean = '';
  private inTarget = false;
  private runStart = 0;
  private readonly spans: Span[] = [];

  /** Whether the answer carried any marker so far (a model may forget them). */
  get marked(): boolean {
    return this.spans.length > 0 || this.inTarget;
  }

  /** The chunk without markers; a possible marker's beginning at its end is held back for the next chunk. */
  push(chunk: string): string {
    const text = this.pending + chunk;
    this.pending = '';
    let out = '';
    let i = 0;
    while (i < text.length) {
      const lt = text.indexOf('<', i);
      if (lt === -1) {
        out += text.slice(i);
        break;
      }
      out += text.slice(i, lt);
      const rest = text.slice(lt);
      const marker = MARKERS.find((m) => rest.startsWith(m));
      if (marker) {
        this.switchTo(marker === TARGET_OPEN, this.clean.length + out.length);
        i = lt + marker.length;
      } else if (MARKERS.some((m) => m.startsWith(rest))) {
        this.pending = rest; // "<", "</" or "<t": decided by the next chunk
        break;
      } else {
        out += '<';
        i = lt + 1;
      }
    }
    this.clean += out;
    return out;
  }

  /** What was held back at the end of the answer (an unfinished marker is plain text). */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    this.clean += rest;
    return rest;
  }

  /** The runs of the clean text between `start` and `end`, an open run counting as far as the text goes. */
  runsBetween(start: number, end: number): LanguageRun[] {
    const spans = [...this.spans, { start: this.runStart, end: this.clean.length, target: this.inTarget }];
    const runs: LanguageRun[] = [];
    for (const span of spans) {
      const text = this.clean.slice(Math.max(start, span.start), Math.min(end, span.end));
      if (!text.trim()) continue;
      const last = runs.at(-1);
      if (last && last.target === span.target) last.text += text;
      else runs.push({ text, target: span.target });
    }
    return runs.map((run) => ({ ...run, text: run.text.trim() }));
  }

  private switchTo(target: boolean, at: number): void {
    if (target === this.inTarget) return;
    if (at > this.runStart) this.spans.push({ start: this.runStart, end: at, target: this.inTarget });
    this.runStart = at;
    this.inTarget = target;
  }
}

/** Scripts of the languages not written in Latin letters: there, runs can be found without markers. */
const SCRIPTS: Record<string, RegExp> = {
  ja: /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u,
  zh: /\p{Script=Han}/u,
  ko: /\p{Script=Hangul}/u,
  ar: /\p{Script=Arabic}/u,
  ru: /\p{Script=Cyrillic}/u,
  el: /\p{Script=Greek}/u,
  th: /\p{Script=Thai}/u,
  hi: /\p{Script=Devanagari}/u,
};

/**
 * Runs of a sentence of an answer without markers. When the target language has its own script
 * and the native language does not share it, each word goes to the language of its letters;
 * otherwise the sentence is one run: in the native language for a beginner (whose answers are
 * mostly in it), else in the target language.
 */
export function runsWithoutMarkers(sentence: string, target: string, native: string, mostlyNative: boolean): LanguageRun[] {
  const script = SCRIPTS[target];
  if (!script || SCRIPTS[native] === script || (target === 'ja' && native === 'zh') || (target === 'zh' && native === 'ja')) {
    return [{ text: sentence, target: !mostlyNative }];
  }
  const runs: LanguageRun[] = [];
  for (const word of sentence.split(/(\s+)/)) {
    // Spaces and punctuation-only pieces stay with the run before them.
    const isTarget = script.test(word) ? true : /\p{L}/u.test(word) ? false : (runs.at(-1)?.target ?? false);
    const last = runs.at(-1);
    if (last && last.target === isTarget) last.text += word;
    else runs.push({ text: word, target: isTarget });
  }
  return runs.map((run) => ({ ...run, text: run.text.trim() })).filter((run) => run.text);
}
