import { Logger } from '@nestjs/common';
import { ParleyError, type ChatMessage, type ChatStreamMessage, type StoredMessage, type Transcription, type TurnEvent } from '@parley/contracts';
import { concat, lastValueFrom, NEVER, Observable, of, Subject, take, throwError, timer, toArray, map } from 'rxjs';
import { loadGatewayConfig } from '../config.js';
import type { SessionStore } from '../sessions/session-store.port.js';
import { ConversationTurnUseCase } from './conversation-turn.use-case.js';
import type { AfterReplyStage } from './turn/after-reply-stage.js';
import { ConversationHistory } from './turn/conversation-history.js';
import type { Chat, Speech, SpeechOptions, SpeechToText, SpokenAudio } from './turn/ports.js';
import { ReplyGeneration } from './turn/reply-generation.js';
import { SentenceSpeech } from './turn/sentence-speech.js';
import { TurnCompletion } from './turn/turn-completion.js';

/** The chat port: answers with the given chunks, records what it was asked, and whether it was cancelled. */
class FakeChat implements Chat {
  asked: ChatMessage[][] = [];
  cancelled = false;
  constructor(public reply: (messages: ChatMessage[]) => Observable<ChatStreamMessage>) {}
  chat(messages: ChatMessage[]): Observable<ChatStreamMessage> {
    this.asked.push(messages);
    return new Observable<ChatStreamMessage>((subscriber) => {
      let done = false;
      const subscription = this.reply(messages).subscribe({
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
    of<ChatStreamMessage>({ type: 'done', stop_reason: 'eog', prompt_tokens: 12, completion_tokens: texts.length, model: 'fake', replica: 'r' }),
  );

/** The speech port: a tiny WAV per sentence, or a failure from the n-th sentence on. */
class FakeSpeech implements Speech {
  spoken: string[] = [];
  cancelled = 0;
  failFrom = Infinity;
  synthesize(text: string, _options: SpeechOptions): Observable<SpokenAudio> {
    const n = this.spoken.push(text);
    if (n > this.failFrom) return throwError(() => new ParleyError('TIMEOUT', 'The tts service sent nothing for 10 ms (waiting for the first reply).'));
    return new Observable<SpokenAudio>((subscriber) => {
      let done = false;
      const t = setTimeout(() => {
        done = true;
        subscriber.next({ wav: Buffer.from(`wav:${text}`), sampleRate: 16000 });
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
  constructor(public result: () => Observable<Transcription>) {}
  transcribe(): Observable<Transcription> {
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

function setUp(options: { chat?: FakeChat; stt?: FakeSpeechToText; stages?: AfterReplyStage[] } = {}) {
  const chat = options.chat ?? new FakeChat(() => chunks('Hola. ', '¿Qué tal?'));
  const speech = new FakeSpeech();
  const stt = options.stt ?? new FakeSpeechToText(() => heard('Hello there'));
  const sessions = new MemorySessions();
  const history = new ConversationHistory(sessions, loadGatewayConfig({}));
  const turns = new ConversationTurnUseCase(
    stt,
    history,
    new ReplyGeneration(chat),
    new SentenceSpeech(speech),
    new TurnCompletion(history),
    options.stages ?? [],
  );
  return { turns, chat, speech, stt, sessions };
}

const TEXT_REQUEST = { message: 'Hi', language: 'es', difficulty: 'beginner', scenario: 'greeting', session_id: 's1' } as const;
const SPEAK_REQUEST = { language: 'en', difficulty: 'beginner', scenario: 'greeting', session_id: 's1' } as const;
const all = (events: Observable<TurnEvent>) => lastValueFrom(events.pipe(toArray()));
const names = (events: TurnEvent[]) => events.map((e) => e.event);

describe('ConversationTurnUseCase (on fake ports)', () => {
  beforeAll(() => Logger.overrideLogger(['error']));

  it('emits response_start, the chunks, then one complete whose full_response is the chunks joined, and stores the turn', async () => {
    const { turns, sessions, speech } = setUp();
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'response_chunk', 'complete']);
    const complete = events.at(-1)!;
    expect(complete.data).toMatchObject({ full_response: 'Hola. ¿Qué tal?', language: 'es', session_id: 's1', usage: { prompt_tokens: 12, completion_tokens: 2 } });
    expect(Object.keys((complete.data as { timings: object }).timings).sort()).toEqual(['llm_first_chunk_ms', 'llm_ms', 'total_ms']);
    expect(complete.data).not.toHaveProperty('audio_available');
    expect(speech.spoken).toEqual([]);
    expect(await sessions.messages('s1')).toEqual([
      { role: 'user', content: 'Hi', language: 'es' },
      { role: 'assistant', content: 'Hola. ¿Qué tal?', language: 'es' },
    ]);
  });

  it('sends the system prompt, the stored history and the message to the chat', async () => {
    const { turns, chat, sessions } = setUp();
    await sessions.appendTurn('s1', [{ role: 'user', content: 'before' }, { role: 'assistant', content: 'answer' }]);
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
    expect(events.at(-1)).toMatchObject({ event: 'complete', data: { audio_available: true, timings: { first_audio_ms: expect.any(Number) } } });
  });

  it('completes the text when the tts-service fails mid-turn, skipping the remaining sentences and saying why', async () => {
    const { turns, speech } = setUp({ chat: new FakeChat(() => chunks('One. ', 'Two. ', 'Three.')) });
    speech.failFrom = 1;
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: true }));
    expect(events.filter((e) => e.event === 'audio')).toHaveLength(1);
    expect(speech.spoken).toEqual(['One.', 'Two.']);
    expect(events.at(-1)).toMatchObject({
      event: 'complete',
      data: { full_response: 'One. Two. Three.', audio_available: false, audio_error: expect.stringMatching(/tts service sent nothing/) },
    });
  });

  it('cancels generation and synthesis when the subscriber leaves, and stores nothing', async () => {
    const chat = new FakeChat(() => concat(of<ChatStreamMessage[]>({ type: 'chunk', text: 'Hola. ' }, { type: 'chunk', text: 'Adiós' }), NEVER));
    const { turns, speech, sessions } = setUp({ chat });
    const firstAudio = await lastValueFrom(turns.textTurn(TEXT_REQUEST, { speak: true }).pipe(take(3), toArray()));
    expect(names(firstAudio)).toEqual(['response_start', 'response_chunk', 'response_chunk']);
    expect(chat.cancelled).toBe(true);
    expect(speech.cancelled).toBe(1);
    expect(await sessions.messages('s1')).toEqual([]);
  });

  it('ends with one TIMEOUT error event when the chat goes silent, and stores nothing', async () => {
    const chat = new FakeChat(() =>
      concat(of<ChatStreamMessage>({ type: 'chunk', text: 'Ho' }), timer(5).pipe(map(() => { throw new ParleyError('TIMEOUT', 'The llm service sent nothing for 5 ms (mid-stream, after 1 reply).'); }))),
    );
    const { turns, sessions } = setUp({ chat });
    const events = await all(turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'error']);
    expect(events.at(-1)!.data).toEqual({ code: 'TIMEOUT', error: expect.stringMatching(/mid-stream/) });
    expect(await sessions.messages('s1')).toEqual([]);
  });

  it('turns an answer the llm-service stopped at its deadline into a TIMEOUT error', async () => {
    const chat = new FakeChat(() =>
      of<ChatStreamMessage[]>({ type: 'chunk', text: 'Ho' }, { type: 'done', stop_reason: 'cancelled', prompt_tokens: 1, completion_tokens: 1, model: 'f', replica: 'r' }),
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
    const stt = new FakeSpeechToText(() => throwError(() => new ParleyError('NO_SPEECH', 'no speech detected: the audio is silent')));
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
    const subscription = turns.speakTurn(SPEAK_REQUEST, new Uint8Array(4), { speak: true }).subscribe((e) => received.push(e));
    expect(names(received)).toEqual(['start']);
    expect(transcriptionCancelled).toBe(false);
    subscription.unsubscribe();
    expect(transcriptionCancelled).toBe(true);
  });

  it('runs after-reply stages between the last text and complete', async () => {
    const stage: AfterReplyStage = {
      events: (_turn, userText, reply) => of<TurnEvent>({ event: 'response_chunk', data: { chunk: `[after "${userText}" → "${reply.text}"]` } }),
    };
    const events = await all(setUp({ stages: [stage] }).turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(names(events)).toEqual(['response_start', 'response_chunk', 'response_chunk', 'response_chunk', 'complete']);
    expect(events[3]!.data).toEqual({ chunk: '[after "Hi" → "Hola. ¿Qué tal?"]' });
  });

  it('emits exactly one terminal event even when a stage fails', async () => {
    const failing: AfterReplyStage = { events: () => throwError(() => new ParleyError('ENGINE_FAILED', 'stage broke')) };
    const events = await all(setUp({ stages: [failing] }).turns.textTurn(TEXT_REQUEST, { speak: false }));
    expect(events.filter((e) => e.event === 'complete' || e.event === 'error')).toEqual([
      { event: 'error', data: { code: 'ENGINE_FAILED', error: 'stage broke' } },
    ]);
  });
});

describe('endingOnce (every transport)', () => {
  it('drops what follows the first terminal event, and adds an error to a stream that ends without one', async () => {
    const { endingOnce } = await import('./turn/turn-events.js');
    const complete: TurnEvent = { event: 'complete', data: { full_response: '', language: 'en', session_id: 's', timings: {} } };
    const chunk: TurnEvent = { event: 'response_chunk', data: { chunk: 'x' } };
    expect(await all(endingOnce(of(chunk, complete, chunk)))).toEqual([chunk, complete]);
    expect(names(await all(endingOnce(of(chunk))))).toEqual(['response_chunk', 'error']);
    const failed = new Subject<TurnEvent>();
    const result = all(endingOnce(failed));
    failed.error(new Error('boom'));
    expect(await result).toEqual([{ event: 'error', data: { code: 'INTERNAL', error: expect.stringMatching(/boom/) } }]);
  });
});
