import { Logger } from '@nestjs/common';
import {
  feedbackSchema,
  ParleyError,
  type ChatMessage,
  type ChatStreamMessage,
  type Feedback,
  type LearnerProgress,
  type StoredMessage,
  type Transcription,
  type TurnEvent,
} from '@parley/contracts';
import { concat, lastValueFrom, NEVER, Observable, of, Subject, take, throwError, timer, toArray, map } from 'rxjs';
import { loadGatewayConfig, type GatewayConfig } from '../config.js';
import { LearnerProgressUseCase } from '../learners/learner-progress.use-case.js';
import type { LearnerStore } from '../learners/learner-store.port.js';
import type { SessionStore } from '../sessions/session-store.port.js';
import { ConversationTurnUseCase } from './conversation-turn.use-case.js';
import type { AfterReplyStage } from './turn/after-reply-stage.js';
import { ConversationHistory } from './turn/conversation-history.js';
import type { Chat, ChatOptions, Speech, SpeechOptions, SpeechToText, SpokenAudio } from './turn/ports.js';
import { ReplyGeneration } from './turn/reply-generation.js';
import { SentenceSpeech } from './turn/sentence-speech.js';
import { TurnCompletion } from './turn/turn-completion.js';
import { TurnFeedback } from './turn/turn-feedback.js';
import { pcm16Wav } from '../speech/wav.js';

/** What happened, in order, across the fakes (to check what waited for what). */
let log: string[] = [];

/** The chat port: answers with the given chunks, records what it was asked, and whether it was cancelled. */
class FakeChat implements Chat {
  asked: ChatMessage[][] = [];
  options: ChatOptions[] = [];
  cancelled = false;
  constructor(
    public reply: (messages: ChatMessage[]) => Observable<ChatStreamMessage>,
    /** The answer to a feedback request (one with a response_format). */
    public feedback: () => Observable<ChatStreamMessage> = () => structured(FEEDBACK),
  ) {}
  chat(messages: ChatMessage[], options: ChatOptions = {}): Observable<ChatStreamMessage> {
    this.asked.push(messages);
    this.options.push(options);
    log.push(options.responseFormat ? 'chat:feedback' : 'chat:answer');
    return new Observable<ChatStreamMessage>((subscriber) => {
      let done = false;
      const subscription = (options.responseFormat ? this.feedback() : this.reply(messages)).subscribe({
        next: (m) => subscriber.next(m),
        error: (e: unknown) => ((done = true), subscriber.error(e)),
        complete: () => ((done = true), subscriber.complete()),
      });
      return () => {
        if (!done) this.cancelled = true;
        subscription.unsubscribe();
      };
    });
  }
}

const chunks = (...texts: string[]): Observable<ChatStreamMessage> =>
  concat(
    of(...texts.map((text): ChatStreamMessage => ({ type: 'chunk', text }))),
    of<ChatStreamMessage>({
      type: 'done',
      stop_reason: 'eog',
      prompt_tokens: 12,
      completion_tokens: texts.length,
      model: 'fake',
      replica: 'r',
    }),
  );

const FEEDBACK: Feedback = {
  corrections: [{ original: 'Hi', corrected: 'Hola', explanation: 'Spanish greeting' }],
  translation: 'Hello. How are you?',
  vocabulary: [{ word: 'hola', translation: 'hello' }],
};

/** A structured answer as the llm-service streams it: the JSON in chunks, then done with the value. */
const structured = (value: object, stopReason: 'eog' | 'max_tokens' = 'eog'): Observable<ChatStreamMessage> =>
  of<ChatStreamMessage[]>(
    { type: 'chunk', text: JSON.stringify(value) },
    { type: 'done', stop_reason: stopReason, prompt_tokens: 30, completion_tokens: 40, model: 'fake', replica: 'r', ...(stopReason === 'eog' ? { value: value as Record<string, unknown> } : {}) },
  );

/** The speech port: a tiny WAV per sentence, or a failure from the n-th sentence on. */
class FakeSpeech implements Speech {
  spoken: string[] = [];
  /** Which language's voice spoke each text. */
  voices: [string, string][] = [];
  cancelled = 0;
  failFrom = Infinity;
  synthesize(text: string, options: SpeechOptions): Observable<SpokenAudio> {
    const n = this.spoken.push(text);
    this.voices.push([options.language, text]);
    if (n > this.failFrom) return throwError(() => new ParleyError('TIMEOUT', 'The tts service sent nothing for 10 ms (waiting for the first reply).'));
    return new Observable<SpokenAudio>((subscriber) => {
      let done = false;
      const t = setTimeout(() => {
        done = true;
        log.push(`audio:${text}`);
        subscriber.next({ wav: pcm16Wav([Buffer.from(`[${options.language}:${text}]`)], 16000), sampleRate: 16000 });
        subscriber.complete();
      }, 1);
      return () => {
        clearTimeout(t);
        if (!done) this.cancelled += 1;
      };
    });
  }
}

class FakeSpeechToText implements SpeechToText {
  asked: [string, string[] | undefined][] = [];
  constructor(public result: () => Observable<Transcription>) {}
  transcribe(_audio: Uint8Array, language: string, candidates?: string[]): Observable<Transcription> {
    this.asked.push([language, candidates]);
    return this.result();
  }
}

const heard = (text: string): Observable<Transcription> =>
  of({ text, language: 'en', language_probability: 0.9, segments: [], duration_ms: 900, replica: 'r' });

class MemorySessions implements SessionStore {
  readonly stored = new Map<string, StoredMessage[]>();
  async messages(id: string) {
    return this.stored.get(id) ?? [];
  }
  async appendTurn(id: string, turn: [StoredMessage, StoredMessage]) {
    this.stored.set(id, [...(this.stored.get(id) ?? []), ...turn]);
  }
  async clear(id: string) {
    this.stored.delete(id);
  }
}

class MemoryLearners implements LearnerStore {
  readonly stored = new Map<string, LearnerProgress>();
  async progress(id: string) {
    return this.stored.get(id);
  }
  async update(id: string, change: (current: LearnerProgress | undefined) => LearnerProgress) {
    this.stored.set(id, change(this.stored.get(id)));
  }
  async forget(id: string) {
    this.stored.delete(id);
  }
}

function setUp(options: { chat?: FakeChat; stt?: FakeSpeechToText; stages?: AfterReplyStage[]; config?: Partial<GatewayConfig> } = {}) {
  log = [];
  const config = { ...loadGatewayConfig({}), ...options.config };
  const chat = options.chat ?? new FakeChat(() => chunks('Hola. ', '¿Qué tal?'));
  const speech = new FakeSpeech();
  const stt = options.stt ?? new FakeSpeechToText(() => heard('Hello there'));
  const sessions = new MemorySessions();
  const learners = new MemoryLearners();
  const history = new ConversationHistory(sessions, config);
  const turns = new ConversationTurnUseCase(
    stt,
    history,
    new ReplyGeneration(chat),
    new SentenceSpeech(speech),
    new TurnCompletion(history, new LearnerProgressUseCase(learners)),
    new TurnFeedback(chat, config),
    options.stages ?? [],
  );
  return { turns, chat, speech, stt, sessions, learners };
}

const TURN_OPTIONS = { feedback: false, native_language: 'en' };
const TEXT_REQUEST = { message: 'Hi', language: 'es', difficulty: 'beginner', scenario: 'greeting', session_id: 's1', ...TURN_OPTIONS };
const SPEAK_REQUEST = { language: 'en', difficulty: 'beginner', scenario: 'greeting', session_id: 's1', ...TURN_OPTIONS };
const WITH_FEEDBACK = { ...TEXT_REQUEST, feedback: true };
const all = (events: Observable<TurnEvent>) => lastValueFrom(events.pipe(toArray()));
const names = (events: TurnEvent[]) => events.map((e) => e.event);

describe('ConversationTurnUseCase (on fake ports)', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('emits response_start, the chunks, then one complete whose full_response is the chunks joined, and stores the turn', async () => {
    const { turns, sessions, speech } = setUp();
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'response_chunk', 'complete']);
    const complete = events.at(-1)!;
    expect(complete.data).toMatchObject({
      full_response: 'Hola. ¿Qué tal?',
      language: 'es',
      session_id: 's1',
      usage: { prompt_tokens: 12, completion_tokens: 2 },
    });
    expect(Object.keys((complete.data as { timings: object }).timings).sort()).toEqual([
      'llm_first_chunk_ms',
      'llm_ms',
      'total_ms',
    ]);
    expect(complete.data).not.toHaveProperty('audio_available');
    expect(speech.spoken).toEqual([]);
    expect(await sessions.messages('s1')).toEqual([
      { role: 'user', content: 'Hi', language: 'es' },
      { role: 'assistant', content: 'Hola. ¿Qué tal?', language: 'es' },
    ]);
  });

  it('sends the system prompt, the stored history and the message to the chat', async () => {
    const { turns, chat, sessions } = setUp();
    await sessions.appendTurn('s1', [
      { role: 'user', content: 'before' },
      { role: 'assistant', content: 'answer' },
    ]);
    await all(turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(chat.asked[0]!.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(chat.asked[0]!.slice(1).map((m) => m.content)).toEqual(['before', 'answer', 'Hi']);
  });

  it('speaks each sentence as an audio event, numbered in order, before complete; skips a sentence with nothing to say', async () => {
    const { turns, speech } = setUp({ chat: new FakeChat(() => chunks('Hola. ', '... ', '¿Qué', ' tal?')) });
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: true }));
    const audio = events.filter((e) => e.event === 'audio');
    expect(audio.map((e) => e.data)).toEqual([
      expect.objectContaining({ seq: 0, sentence: 'Hola.', format: 'wav', sample_rate: 16000 }),
      expect.objectContaining({ seq: 1, sentence: '¿Qué tal?' }),
    ]);
    expect(speech.spoken).toEqual(['Hola.', '¿Qué tal?']);
    expect(events.at(-1)).toMatchObject({
      event: 'complete',
      data: { audio_available: true, timings: { first_audio_ms: expect.any(Number) } },
    });
  });

  it('completes the text when the tts-service fails mid-turn, skipping the remaining sentences and saying why', async () => {
    const { turns, speech } = setUp({ chat: new FakeChat(() => chunks('One. ', 'Two. ', 'Three.')) });
    speech.failFrom = 1;
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: true }));
    expect(events.filter((e) => e.event === 'audio')).toHaveLength(1);
    expect(speech.spoken).toEqual(['One.', 'Two.']);
    expect(events.at(-1)).toMatchObject({
      event: 'complete',
      data: {
        full_response: 'One. Two. Three.',
        audio_available: false,
        audio_error: expect.stringMatching(/tts service sent nothing/),
      },
    });
  });

  it('cancels generation and synthesis when the subscriber leaves, and stores nothing', async () => {
    const chat = new FakeChat(() =>
      concat(of<ChatStreamMessage[]>({ type: 'chunk', text: 'Hola. ' }, { type: 'chunk', text: 'Adiós' }), NEVER),
    );
    const { turns, speech, sessions } = setUp({ chat });
    const firstAudio = await lastValueFrom(turns.textTurn(TEXT_REQUEST, { speak: true }).pipe(take(3), toArray()));
    expect(names(firstAudio)).toEqual(['response_start', 'response_chunk', 'response_chunk']);
    expect(chat.cancelled).toBe(true);
    expect(speech.cancelled).toBe(1);
    expect(await sessions.messages('s1')).toEqual([]);
  });

  it('ends with one TIMEOUT error event when the chat goes silent, and stores nothing', async () => {
    const chat = new FakeChat(() =>
      concat(
        of<ChatStreamMessage>({ type: 'chunk', text: 'Ho' }),
        timer(5).pipe(
          map(() => {
            throw new ParleyError('TIMEOUT', 'The llm service sent nothing for 5 ms (mid-stream, after 1 reply).');
          }),
        ),
      ),
    );
    const { turns, sessions } = setUp({ chat });
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'error']);
    expect(events.at(-1)!.data).toEqual({ code: 'TIMEOUT', error: expect.stringMatching(/mid-stream/) });
    expect(await sessions.messages('s1')).toEqual([]);
  });

  it('turns an answer the llm-service stopped at its deadline into a TIMEOUT error', async () => {
    const chat = new FakeChat(() =>
      of<ChatStreamMessage[]>(
        { type: 'chunk', text: 'Ho' },
        { type: 'done', stop_reason: 'cancelled', prompt_tokens: 1, completion_tokens: 1, model: 'f', replica: 'r' },
      ),
    );
    const events = await all(setUp({ chat }).turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'TIMEOUT' } });
  });

  it('speaks a spoken turn: start, transcription, the reply, complete with stt_ms', async () => {
    const { turns, chat } = setUp();
    const events = await all(turns.speakTurn(SPEAK_REQUEST, new Uint8Array(4), { speak: true }));
    expect(names(events).slice(0, 3)).toEqual(['start', 'transcription', 'response_start']);
    expect(events[1]!.data).toEqual({ text: 'Hello there', language: 'en' });
    expect(chat.asked[0]!.at(-1)).toEqual({ role: 'user', content: 'Hello there' });
    expect(events.at(-1)).toMatchObject({ event: 'complete', data: { timings: { stt_ms: expect.any(Number) } } });
  });

  it('synthesizes nothing for a spoken turn whose transport does not deliver audio', async () => {
    const { turns, speech } = setUp();
    const events = await all(turns.speakTurn(SPEAK_REQUEST, new Uint8Array(4), { speak: false }));
    expect(names(events)).not.toContain('audio');
    expect(speech.spoken).toEqual([]);
  });

  it("passes the stt-service's NO_SPEECH on as the turn's one error event, without asking the chat", async () => {
    const stt = new FakeSpeechToText(() =>
      throwError(() => new ParleyError('NO_SPEECH', 'no speech detected: the audio is silent')),
    );
    const { turns, chat } = setUp({ stt });
    const events = await all(turns.speakTurn(SPEAK_REQUEST, new Uint8Array(4), { speak: true }));
    expect(events).toEqual([
      { event: 'start', data: { status: 'transcribing', session_id: 's1' } },
      { event: 'error', data: { code: 'NO_SPEECH', error: 'no speech detected: the audio is silent' } },
    ]);
    expect(chat.asked).toEqual([]);
  });

  it('cancels the transcription when the subscriber leaves during it', async () => {
    let transcriptionCancelled = false;
    const stt = new FakeSpeechToText(() => new Observable<Transcription>(() => () => (transcriptionCancelled = true)));
    const { turns } = setUp({ stt });
    const received: TurnEvent[] = [];
    const subscription = turns
      .speakTurn(SPEAK_REQUEST, new Uint8Array(4), { speak: true })
      .subscribe((e) => received.push(e));
    expect(names(received)).toEqual(['start']);
    expect(transcriptionCancelled).toBe(false);
    subscription.unsubscribe();
    expect(transcriptionCancelled).toBe(true);
  });

  it('runs after-reply stages between the last text and complete', async () => {
    const stage: AfterReplyStage = {
      events: (_turn, userText, reply) =>
        of<TurnEvent>({ event: 'response_chunk', data: { chunk: `[after "${userText}" → "${reply.text}"]` } }),
    };
    const events = await all(setUp({ stages: [stage] }).turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'response_chunk', 'response_chunk', 'complete']);
    expect(events[3]!.data).toEqual({ chunk: '[after "Hi" → "Hola. ¿Qué tal?"]' });
  });

  it('emits exactly one terminal event even when a stage fails', async () => {
    const failing: AfterReplyStage = {
      events: () => throwError(() => new ParleyError('ENGINE_FAILED', 'stage broke')),
    };
    const events = await all(setUp({ stages: [failing] }).turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(events.filter((e) => e.event === 'complete' || e.event === 'error')).toEqual([
      { event: 'error', data: { code: 'ENGINE_FAILED', error: 'stage broke' } },
    ]);
  });
});

describe('endingOnce (every transport)', () => {
  it('drops what follows the first terminal event, and adds an error to a stream that ends without one', async () => {
    const { endingOnce } = await import('./turn/turn-events.js');
    const complete: TurnEvent = {
      event: 'complete',
      data: { full_response: '', language: 'en', session_id: 's', timings: {} },
    };
    const chunk: TurnEvent = { event: 'response_chunk', data: { chunk: 'x' } };
    expect(await all(endingOnce(of(chunk, complete, chunk)))).toEqual([chunk, complete]);
    expect(names(await all(endingOnce(of(chunk))))).toEqual(['response_chunk', 'error']);
    const failed = new Subject<TurnEvent>();
    const result = all(endingOnce(failed));
    failed.error(new Error('boom'));
    expect(await result).toEqual([
      { event: 'error', data: { code: 'INTERNAL', error: expect.stringMatching(/boom/) } },
    ]);
  });
});

describe('ConversationTurnUseCase: feedback, learners, the learner\'s own language (on fake ports)', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('emits exactly one feedback event, after the last response_chunk and before complete, when the turn asks for it', async () => {
    const { turns, chat } = setUp();
    const events = await all(turns.textTurn(WITH_FEEDBACK, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'response_chunk', 'feedback', 'complete']);
    expect(feedbackSchema.parse(events[3]!.data)).toEqual(FEEDBACK);
    expect(events.at(-1)!.data).not.toHaveProperty('feedback_error');
    // Its own request: the feedback prompt, a JSON schema, its own token budget.
    expect(chat.options[1]).toEqual({ maxTokens: 1024, responseFormat: { type: 'json_schema', schema: expect.objectContaining({ type: 'object' }) } });
    expect(chat.asked[1]![1]!.content).toBe('The learner said: Hi\nThe tutor answered: Hola. ¿Qué tal?');
  });

  it('asks for no feedback and emits none without the flag', async () => {
    const { turns, chat } = setUp();
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).not.toContain('feedback');
    expect(chat.options).toHaveLength(1);
  });

  it('starts the feedback only once the answer is written and its first sentence spoken, and still before complete', async () => {
    const { turns } = setUp({ chat: new FakeChat(() => chunks('Uno. ', 'Dos. ', 'Tres.')) });
    const events = await all(turns.textTurn(WITH_FEEDBACK, { speak: true }));
    expect(log.indexOf('chat:feedback')).toBeGreaterThan(log.indexOf('audio:Uno.'));
    const order = names(events);
    expect(order.indexOf('feedback')).toBeGreaterThan(order.lastIndexOf('response_chunk'));
    expect(order.indexOf('feedback')).toBeGreaterThan(order.indexOf('audio'));
    expect(order.filter((name) => name === 'audio')).toHaveLength(3);
    expect(order.at(-1)).toBe('complete');
  });

  it('completes without a feedback event, saying why in complete, when the feedback is cut by its budget', async () => {
    const { turns } = setUp({ chat: new FakeChat(() => chunks('Hola.'), () => structured(FEEDBACK, 'max_tokens')) });
    const events = await all(turns.textTurn(WITH_FEEDBACK, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'complete']);
    expect(events.at(-1)!.data).toMatchObject({ full_response: 'Hola.', feedback_error: 'the feedback was cut by its token budget (FEEDBACK_MAX_TOKENS=1024)' });
  });

  it('gives up the feedback at its deadline, cancelling its generation, and completes the turn', async () => {
    const chat = new FakeChat(() => chunks('Hola.'), () => NEVER);
    const { turns } = setUp({ chat, config: { feedbackTimeoutMs: 20 } });
    const events = await all(turns.textTurn(WITH_FEEDBACK, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'complete']);
    expect(events.at(-1)!.data).toMatchObject({ feedback_error: 'the feedback took longer than 20 ms' });
    expect(chat.cancelled).toBe(true);
  });

  it('completes without feedback when the llm-service fails it', async () => {
    const chat = new FakeChat(() => chunks('Hola.'), () => throwError(() => new ParleyError('SERVICE_BUSY', 'the llm service is busy')));
    const events = await all(setUp({ chat }).turns.textTurn(WITH_FEEDBACK, { speak: false }));
    expect(events.at(-1)).toMatchObject({ event: 'complete', data: { feedback_error: 'the llm service is busy' } });
  });

  it("counts the turn toward the learner's progress, with the feedback's words and corrections", async () => {
    const { turns, learners } = setUp();
    await all(turns.textTurn({ ...WITH_FEEDBACK, learner_id: 'ana' }, { speak: false }));
    await all(turns.textTurn({ ...TEXT_REQUEST, learner_id: 'ana' }, { speak: false }));
    const progress = learners.stored.get('ana')!;
    expect(progress.languages).toEqual({ es: { turns: 2, words: 1, corrections: 1 } });
    expect(progress.vocabulary).toEqual([expect.objectContaining({ word: 'hola', translation: 'hello', language: 'es', times_seen: 1 })]);
    expect(progress.recent_corrections).toEqual([expect.objectContaining({ original: 'Hi', corrected: 'Hola', language: 'es' })]);
  });

  it('transcribes a beginner in whichever of the target and native language they spoke; an advanced learner in the target', async () => {
    const { turns, stt, chat } = setUp();
    await all(turns.speakTurn({ ...SPEAK_REQUEST, language: 'es', native_language: 'de' }, new Uint8Array(4), { speak: false }));
    await all(turns.speakTurn({ ...SPEAK_REQUEST, language: 'es', native_language: 'de', difficulty: 'advanced' }, new Uint8Array(4), { speak: false }));
    await all(turns.speakTurn({ ...SPEAK_REQUEST, language: 'es', native_language: 'es' }, new Uint8Array(4), { speak: false }));
    expect(stt.asked).toEqual([
      ['auto', ['es', 'de']],
      ['es', undefined],
      ['es', undefined],
    ]);
    expect(chat.asked[0]![0]!.content).toContain('If the learner speaks German, answer their question and help them say it in Spanish.');
  });
});

describe('ConversationTurnUseCase: bilingual speech (on fake ports)', () => {
  beforeAll(() => Logger.overrideLogger(['error']));
  const MARKED = 'Say <t>Hola</t> (hello). <t>¿Qué tal?</t> Good.';
  const CLEAN = 'Say Hola (hello). ¿Qué tal? Good.';
  const BEGINNER = { ...TEXT_REQUEST, language: 'es', native_language: 'en' };
  const audioOf = (events: TurnEvent[]) =>
    events.flatMap((e) => (e.event === 'audio' ? [{ sentence: e.data.sentence, pcm: Buffer.from(e.data.audio, 'base64').subarray(44).toString() }] : []));

  it('speaks each marked run with a voice of its language, joined into one audio event per sentence', async () => {
    const { turns, speech } = setUp({ chat: new FakeChat(() => chunks('Say <t>Ho', 'la</t> (hello). <', 't>¿Qué tal?</', 't> Good.')) });
    const events = await all(turns.textTurn(BEGINNER, { speak: true }));
    expect(speech.voices).toEqual([
      ['en', 'Say'],
      ['es', 'Hola'],
      ['en', '(hello).'],
      ['es', '¿Qué tal?'],
      ['en', 'Good.'],
    ]);
    expect(audioOf(events)).toEqual([
      { sentence: 'Say Hola (hello).', pcm: '[en:Say][es:Hola][en:(hello).]' },
      { sentence: '¿Qué tal?', pcm: '[es:¿Qué tal?]' },
      { sentence: 'Good.', pcm: '[en:Good.]' },
    ]);
  });

  it('lets no marker reach a client or the history, wherever the chunks cut the markers', async () => {
    for (let a = 1; a < MARKED.length; a++) {
      for (const b of [a + 1, a + 2, a + 5]) {
        const pieces = [MARKED.slice(0, a), MARKED.slice(a, b), MARKED.slice(b)].filter(Boolean);
        const { turns, sessions } = setUp({ chat: new FakeChat(() => chunks(...pieces)) });
        const events = await all(turns.textTurn(BEGINNER, { speak: true }));
        const texts = events.flatMap((e) => (e.event === 'response_chunk' ? [e.data.chunk] : e.event === 'audio' ? [e.data.sentence] : []));
        for (const text of texts) expect(text).not.toMatch(/<\/?t>/);
        expect(events.filter((e) => e.event === 'response_chunk').map((e) => (e.data as { chunk: string }).chunk).join('')).toBe(CLEAN);
        expect(events.at(-1)!.data).toMatchObject({ full_response: CLEAN });
        expect((await sessions.messages('s1')).at(-1)!.content).toBe(CLEAN);
      }
    }
  });

  it('speaks with the target voice only for advanced learners, and when the native language is the target', async () => {
    for (const request of [{ ...BEGINNER, difficulty: 'advanced' }, { ...BEGINNER, native_language: 'es' }]) {
      const { turns, speech } = setUp({ chat: new FakeChat(() => chunks(MARKED)) });
      await all(turns.textTurn(request, { speak: true }));
      expect(new Set(speech.voices.map(([language]) => language))).toEqual(new Set(['es']));
    }
  });

  it('falls back to the native voice for a beginner whose answer has no markers', async () => {
    const { turns, speech } = setUp({ chat: new FakeChat(() => chunks('Say hola. Good.')) });
    await all(turns.textTurn(BEGINNER, { speak: true }));
    expect(speech.voices).toEqual([
      ['en', 'Say hola.'],
      ['en', 'Good.'],
    ]);
  });
});
