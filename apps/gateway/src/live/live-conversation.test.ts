import { jest } from '@jest/globals';
import { ParleyError, type LiveEvent } from '@parley/contracts';
import { Observable, Subject } from 'rxjs';
import type { SttLiveStream } from '../services/stt-live.client.js';
import { LIVE_SOCKET_BEHAVIOUR, LiveConversation, type AnswerEvent, type LiveBehaviour } from './live-conversation.js';

/** A WAV of `ms` at 16 kHz, base64, as `audio` events carry it. */
const wavOf = (ms: number) => Buffer.alloc(44 + ms * 32).toString('base64');

/** The rules of live turns on fakes: scripted stt events and answers the test drives. */
function harness(behaviour: LiveBehaviour = LIVE_SOCKET_BEHAVIOUR) {
  const sent: Array<{ event: string; data: Record<string, unknown> }> = [];
  const stored: Array<{ userText: string; heard: string }> = [];
  const answers: Array<{ text: string; events: Subject<AnswerEvent>; cancelled: boolean }> = [];
  const streams: Array<{ events: Subject<LiveEvent>; audio: number[]; options: object; cleared: number }> = [];
  const closed: number[] = [];
  const conversation = new LiveConversation(
    { language: 'en', difficulty: 'beginner', scenario: 'greeting' },
    'session-1',
    {
      openStt: (startSample, options) => {
        const events = new Subject<LiveEvent>();
        const stream = { events, audio: [startSample], options, cleared: 0 };
        streams.push(stream);
        const live: SttLiveStream = {
          events,
          audio: (offset) => stream.audio.push(offset),
          commit: () => undefined,
          clear: () => void stream.cleared++,
          keepalive: () => undefined,
          close: () => undefined,
        };
        return live;
      },
      answer: (_settings, text) =>
        new Observable<AnswerEvent>((subscriber) => {
          const answer = { text, events: new Subject<AnswerEvent>(), cancelled: false };
          answers.push(answer);
          let done = false;
          const subscription = answer.events.subscribe({
            next: (event) => subscriber.next(event),
            complete: () => ((done = true), subscriber.complete()),
          });
          return () => {
            answer.cancelled = !done;
            subscription.unsubscribe();
          };
        }),
      store: async (_settings, userText, heard) => {
        stored.push({ userText, heard });
      },
      send: (event, data) => sent.push({ event, data: data as Record<string, unknown> }),
      close: (code) => closed.push(code),
      metrics: { turnEnded: () => undefined, speechEndToTranscription: () => undefined, speechEndToFirstAudio: () => undefined },
    },
    { idleTimeoutMs: 60_000, sttKeepaliveMs: 60_000 },
    behaviour,
  );
  conversation.start();
  const stt = (event: LiveEvent) => streams.at(-1)!.events.next(event);
  const utterance = (id: number, text: string, at: number) => {
    stt({ type: 'speech_started', utterance_id: id, at_ms: at });
    stt({ type: 'speech_stopped', utterance_id: id, at_ms: at + 1000, reason: 'silence' });
    stt({ type: 'transcription', utterance_id: id, text, language: 'en', language_probability: null, start_ms: at, end_ms: at + 1000, replica: 'r' });
  };
  const names = (turnId: string) => sent.filter((e) => e.data.turn_id === turnId).map((e) => e.event);
  return { conversation, sent, stored, answers, streams, closed, stt, utterance, names };
}

describe('LiveConversation', () => {
  afterEach(() => jest.useRealTimers());

  it('cuts a turn whose audio is playing: interrupted with what was heard, stored, before the new speech_started', () => {
    const h = harness();
    h.utterance(1, 'Hello there', 500);
    expect(h.answers[0]!.text).toBe('Hello there');
    h.answers[0]!.events.next({ event: 'response_start', data: {} });
    h.answers[0]!.events.next({ event: 'audio', data: { seq: 0, sentence: 'Hi!', sample_rate: 16_000, audio: wavOf(5000) } });
    const playing = performance.now();
    while (performance.now() - playing < 2); // the first sentence has started playing
    h.stt({ type: 'speech_started', utterance_id: 2, at_ms: 4000 });
    expect(h.names('t1')).toEqual(['speech_started', 'speech_stopped', 'transcription', 'response_start', 'audio', 'interrupted']);
    expect(h.sent.find((e) => e.event === 'interrupted')!.data).toEqual({ turn_id: 't1', heard: 'Hi!' });
    expect(h.sent.at(-1)).toEqual({ event: 'speech_started', data: { turn_id: 't2', at_ms: 4000 } });
    expect(h.answers[0]!.cancelled).toBe(true);
    expect(h.stored).toEqual([{ userText: 'Hello there', heard: 'Hi!' }]);
  });

  it('joins an utterance cut before any audio played with the next one (the learner had paused)', () => {
    const h = harness();
    h.utterance(1, 'I would like', 500);
    h.answers[0]!.events.next({ event: 'response_start', data: {} });
    h.utterance(2, 'a coffee', 2000);
    expect(h.sent.find((e) => e.event === 'interrupted')!.data).toEqual({ turn_id: 't1', heard: '' });
    expect(h.answers[0]!.cancelled).toBe(true);
    expect(h.sent.find((e) => e.event === 'transcription' && e.data.turn_id === 't2')!.data).toEqual({
      turn_id: 't2',
      text: 'I would like a coffee',
      language: 'en',
    });
    expect(h.answers[1]!.text).toBe('I would like a coffee');
    expect(h.stored).toEqual([]);
  });

  it('joins even when the cut utterance is still being transcribed', () => {
    const h = harness();
    h.stt({ type: 'speech_started', utterance_id: 1, at_ms: 100 });
    h.stt({ type: 'speech_stopped', utterance_id: 1, at_ms: 900, reason: 'silence' });
    h.stt({ type: 'speech_started', utterance_id: 2, at_ms: 1500 });
    h.stt({ type: 'speech_stopped', utterance_id: 2, at_ms: 2500, reason: 'silence' });
    h.stt({ type: 'transcription', utterance_id: 2, text: 'two', language: 'en', language_probability: null, start_ms: 1500, end_ms: 2500, replica: 'r' });
    expect(h.answers).toHaveLength(0); // waits for the first utterance's final
    h.stt({ type: 'transcription', utterance_id: 1, text: 'one', language: 'en', language_probability: null, start_ms: 100, end_ms: 900, replica: 'r' });
    expect(h.answers.map((a) => a.text)).toEqual(['one two']);
  });

  it('completes a turn only when its audio has been played, and stores the whole answer then', () => {
    jest.useFakeTimers({ doNotFake: ['performance'] });
    const h = harness();
    h.utterance(1, 'Hello', 500);
    h.answers[0]!.events.next({ event: 'audio', data: { seq: 0, sentence: 'Hi there.', sample_rate: 16_000, audio: wavOf(300) } });
    h.answers[0]!.events.next({ event: 'complete', data: { full_response: 'Hi there.' } });
    expect(h.names('t1')).not.toContain('complete');
    jest.advanceTimersByTime(400);
    expect(h.names('t1').at(-1)).toBe('complete');
    expect(h.stored).toEqual([{ userText: 'Hello', heard: 'Hi there.' }]);
  });

  it('ends a turn with NO_SPEECH when the utterance transcribes to nothing', () => {
    const h = harness();
    h.utterance(1, '  ', 500);
    expect(h.sent.at(-1)).toEqual({ event: 'error', data: { turn_id: 't1', code: 'NO_SPEECH', error: expect.any(String) } });
    expect(h.answers).toHaveLength(0);
  });

  it('answers typed text, interrupting the answer in progress; interrupt stops it', () => {
    const h = harness();
    h.conversation.message(JSON.stringify({ type: 'text', message: 'Hola' }));
    expect(h.answers[0]!.text).toBe('Hola');
    h.conversation.message(JSON.stringify({ type: 'text', message: 'Adiós' }));
    expect(h.sent.find((e) => e.event === 'interrupted')!.data).toEqual({ turn_id: 't1', heard: '' });
    expect(h.stored).toEqual([{ userText: 'Hola', heard: '' }]);
    h.conversation.message(JSON.stringify({ type: 'interrupt' }));
    expect(h.names('t2')).toEqual(['interrupted']);
    expect(h.answers.every((a) => a.cancelled)).toBe(true);
  });

  it('answers malformed messages and odd-length audio with an error without turn_id', () => {
    const h = harness();
    h.conversation.message('{oops');
    h.conversation.message(JSON.stringify({ type: 'played', turn_id: 't1' }));
    h.conversation.audio(new Uint8Array(5));
    const errors = h.sent.filter((e) => e.event === 'error');
    expect(errors).toHaveLength(3);
    for (const error of errors) expect(error.data).toEqual({ code: 'INVALID_REQUEST', error: expect.any(String) });
  });

  it('ends the utterance in progress with an error when its stt replica is lost, and goes on with a new stream at the same clock', () => {
    const h = harness();
    h.stt({ type: 'opened', stream_id: 's1', replica: 'r1', sample_rate: 16_000, heartbeat_ms: 1000 });
    h.conversation.audio(new Uint8Array(3200)); // 1600 samples
    h.stt({ type: 'speech_started', utterance_id: 1, at_ms: 50 });
    h.streams[0]!.events.error(new ParleyError('TIMEOUT', 'the stt service sent nothing for 3000 ms'));
    expect(h.sent.at(-1)).toEqual({ event: 'error', data: { turn_id: 't1', code: 'TIMEOUT', error: expect.stringMatching(/lost mid-utterance/) } });
    expect(h.streams).toHaveLength(2);
    expect(h.streams[1]!.audio[0]).toBe(1600); // opened at the connection's clock
    h.conversation.audio(new Uint8Array(320));
    expect(h.streams[1]!.audio.at(-1)).toBe(1600);
    h.utterance(1, 'again', 2000); // the new replica numbers its utterances from 1
    expect(h.answers.map((a) => a.text)).toEqual(['again']);
  });

  it('says once that listening is unavailable when no stt replica takes the stream, and retries with backoff', () => {
    jest.useFakeTimers({ doNotFake: ['performance'] });
    const h = harness();
    h.streams[0]!.events.error(new ParleyError('SERVICE_UNAVAILABLE', 'The stt service is not running (no replica answered).'));
    expect(h.sent.at(-1)).toEqual({ event: 'error', data: { code: 'SERVICE_UNAVAILABLE', error: expect.stringMatching(/listening is unavailable/) } });
    expect(h.streams).toHaveLength(1);
    jest.advanceTimersByTime(600);
    expect(h.streams).toHaveLength(2);
    h.streams[1]!.events.error(new ParleyError('SERVICE_UNAVAILABLE', 'still none'));
    expect(h.sent.filter((e) => e.event === 'error')).toHaveLength(1);
    jest.advanceTimersByTime(1100);
    expect(h.streams).toHaveLength(3);
    h.conversation.dispose();
  });

  describe('as OpenAI Realtime drives it', () => {
    const manual: LiveBehaviour = { autoRespond: false, completeAfterPlayback: false, detection: { mode: 'manual' } };

    it('holds a transcribed utterance until respond(), then answers it with the text added', () => {
      const h = harness(manual);
      expect(h.streams[0]!.options).toEqual({ detection: { mode: 'manual' }, language: 'en' });
      h.utterance(1, 'Hello there', 0);
      expect(h.answers).toHaveLength(0);
      expect(h.names('t1')).toEqual(['speech_started', 'speech_stopped', 'transcription']);
      expect(h.conversation.busy).toBe(false);
      expect(h.conversation.respond('and goodbye')).toBe('answering');
      expect(h.answers[0]!.text).toBe('Hello there and goodbye');
      expect(h.conversation.respond()).toBe('busy');
    });

    it('answers a typed message on respond(text), and refuses respond() with nothing to answer', () => {
      const h = harness(manual);
      expect(h.conversation.respond()).toBe('nothing');
      expect(h.conversation.respond('Good morning')).toBe('answering');
      expect(h.answers[0]!.text).toBe('Good morning');
    });

    it('sends complete as soon as the answer is generated when not waiting for playback', () => {
      const h = harness(manual);
      h.conversation.respond('Hi');
      h.answers[0]!.events.next({ event: 'audio', data: { seq: 0, sentence: 'Hello!', sample_rate: 16_000, audio: wavOf(5000) } });
      h.answers[0]!.events.next({ event: 'complete', data: { full_response: 'Hello!' } });
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          expect(h.names('t1')).toEqual(['audio', 'complete']);
          expect(h.stored).toEqual([{ userText: 'Hi', heard: 'Hello!' }]);
          resolve();
        }, 20),
      );
    });

    it('answers a committed utterance as soon as it is transcribed when respond() came first', () => {
      const h = harness(manual);
      h.conversation.audio(new Uint8Array(3200));
      h.conversation.commit();
      expect(h.conversation.respond()).toBe('waiting');
      expect(h.conversation.respond()).toBe('busy');
      h.utterance(1, 'Hello there', 0);
      expect(h.answers.map((a) => a.text)).toEqual(['Hello there']);
    });

    it('answers only the typed text when the committed utterance held no speech', () => {
      const h = harness(manual);
      h.conversation.commit();
      expect(h.conversation.respond('Hi')).toBe('waiting');
      h.stt({ type: 'no_speech', at_ms: 0 });
      expect(h.answers.map((a) => a.text)).toEqual(['Hi']);
    });

    it('cancelAnswer() interrupts only an answer in progress', () => {
      const h = harness(manual);
      expect(h.conversation.cancelAnswer()).toBe(false);
      h.conversation.respond('Hi');
      expect(h.conversation.cancelAnswer()).toBe(true);
      expect(h.answers[0]!.cancelled).toBe(true);
      expect(h.names('t1')).toEqual(['interrupted']);
    });

    it('reopens the stt stream when the detection or language changes, dropping an utterance being heard', () => {
      const h = harness();
      h.stt({ type: 'speech_started', utterance_id: 1, at_ms: 0 });
      h.conversation.configure({}, { detection: { mode: 'vad', threshold: 0.7, min_silence_ms: 800 } });
      expect(h.streams).toHaveLength(2);
      expect(h.streams[0]!.events.observed).toBe(false); // the old stream was cancelled
      expect(h.streams[1]!.options).toEqual({ detection: { mode: 'vad', threshold: 0.7, min_silence_ms: 800 }, language: 'en' });
      expect(h.sent.at(-1)).toEqual({ event: 'interrupted', data: { turn_id: 't1', heard: '' } });
      h.conversation.configure({ instructions: 'Be brief.' }, { autoRespond: false });
      expect(h.streams).toHaveLength(2);
      h.conversation.configure({ language: 'es' });
      expect(h.streams[2]!.options).toEqual(expect.objectContaining({ language: 'es' }));
    });

    it('clearInput() forgets the utterance being heard: no answer comes for it', () => {
      const h = harness();
      h.stt({ type: 'speech_started', utterance_id: 1, at_ms: 0 });
      h.conversation.clearInput();
      expect(h.streams[0]!.cleared).toBe(1);
      h.stt({ type: 'speech_stopped', utterance_id: 1, at_ms: 900, reason: 'silence' });
      h.stt({ type: 'transcription', utterance_id: 1, text: 'late', language: 'en', language_probability: null, start_ms: 0, end_ms: 900, replica: 'r' });
      expect(h.answers).toHaveLength(0);
      expect(h.names('t1')).toEqual(['speech_started', 'interrupted']);
    });
  });
});
