import { Logger } from '@nestjs/common';
import {
  describeIssues,
  LIVE_CLOSE_CODES,
  LIVE_SAMPLE_RATE,
  LIVE_SAMPLES_PER_MS,
  liveClientMessageSchema,
  ParleyError,
  type LiveClientMessage,
  type LiveDetection,
  type LiveEvent,
  type LiveQuery,
} from '@parley/contracts';
import type { Observable, Subscription } from 'rxjs';
import type { SttLiveStream } from '../services/stt-live.client.js';
import { PlaybackClock } from './playback-clock.js';

/** A turn event of the answer (the SSE vocabulary): response_start, response_chunk, audio, feedback, complete, error. */
export interface AnswerEvent {
  event: string;
  data: object;
}

/** The turn settings of a conversation: the live query's, and instructions added to the tutor's prompt. */
export type LiveSettings = LiveQuery & { session_id: string; instructions?: string };

/** Changes to the settings: undefined keeps a setting, null clears an optional one. */
export type SettingChanges = { [K in keyof Omit<LiveSettings, 'session_id'>]?: LiveSettings[K] | null };

/** What a live conversation needs from the rest of the gateway. */
export interface LiveConversationPorts {
  /** A new live stream in the stt-service, starting at `startSample` on this connection's clock. */
  openStt(startSample: number, options: { detection: LiveDetection; language: string }): SttLiveStream;
  /**
   * The answer to `userText` as turn events, with speech; ends with `complete` or `error`; does
   * NOT store the turn (the conversation stores what was heard). Unsubscribing cancels it.
   */
  answer(settings: LiveSettings, userText: string): Observable<AnswerEvent>;
  /** Stores a turn: the learner's words and, when not empty, what they heard of the answer. */
  store(settings: LiveSettings, userText: string, heard: string): Promise<void>;
  /** Sends one server message `{event, data}`. */
  send(event: string, data: object): void;
  close(code: number, reason: string): void;
  metrics: LiveConversationMetrics;
}

export interface LiveConversationMetrics {
  turnEnded(outcome: 'complete' | 'interrupted' | 'error'): void;
  speechEndToTranscription(seconds: number): void;
  speechEndToFirstAudio(seconds: number): void;
}

export interface LiveConversationOptions {
  idleTimeoutMs: number;
  /** A keepalive goes to the stt-service when no audio was forwarded for this long. */
  sttKeepaliveMs: number;
}

/**
 * How a protocol drives the conversation (the live socket's defaults, LIVE_SOCKET_BEHAVIOUR;
 * OpenAI Realtime's session settings change them).
 */
export interface LiveBehaviour {
  /** An utterance is answered as soon as it is transcribed; else it waits for `respond()`. */
  autoRespond: boolean;
  /**
   * `complete` waits until the answer's audio would have been played (the live socket: a turn is
   * over when it was heard); else it is sent as soon as the answer is generated.
   */
  completeAfterPlayback: boolean;
  /** How utterances are found (voice activity detection, or commits only). */
  detection: LiveDetection;
}

export const LIVE_SOCKET_BEHAVIOUR: LiveBehaviour = { autoRespond: true, completeAfterPlayback: true, detection: { mode: 'vad' } };

interface Turn {
  id: string;
  /** stt utterances that make up what the learner said (several when a pause was joined). */
  utterances: number[];
  texts: Map<number, string>;
  /** Typed turns: the message. */
  typed?: string;
  /** When the last voiced sample of its latest utterance arrived (performance.now()). */
  speechEndedAt?: number;
  /** `transcribed`: waiting for `respond()` (autoRespond off). */
  phase: 'listening' | 'transcribing' | 'transcribed' | 'answering' | 'done';
  userText?: string;
  answer?: Subscription;
  playback: PlaybackClock;
  /** The answer's `complete`, held until its audio has been played. */
  completeTimer?: NodeJS.Timeout;
  firstAudioSent: boolean;
}

/**
 * One live socket: audio goes to an stt live stream (voice activity detection, transcripts), each
 * utterance becomes a voice turn answered with the same events as speak-stream, and the
 * learner can interrupt (barge-in) by speaking, typing or `interrupt`. Rules: ../shared/API.md,
 * "Live conversation". Every turn ends with exactly one of complete, interrupted, error.
 *
 * It is the core of both live protocols: it speaks the live socket's vocabulary through
 * `ports.send` (`{event, data}`, the SSE turn events with a `turn_id`), which the live socket
 * sends as is and the OpenAI Realtime adapter translates; each protocol calls the public methods.
 */
export class LiveConversation {
  private readonly logger = new Logger('live');
  private readonly settings: LiveSettings;
  private readonly behaviour: LiveBehaviour;
  /** Samples received on this connection: the clock of every at_ms. */
  private samples = 0;
  private stt?: { stream: SttLiveStream; subscription: Subscription };
  private turn?: Turn;
  /** Turns that own an stt utterance id (a cut turn's utterances move to the turn that joins them). */
  private readonly turnOfUtterance = new Map<number, Turn>();
  private turnCount = 0;
  private idleTimer?: NodeJS.Timeout;
  private keepaliveTimer?: NodeJS.Timeout;
  private lastAudioForwardedAt = 0;
  private readonly arrivals: Array<[number, number]> = [];
  private closed = false;
  /** Streams in a row that failed before opening, and the pending retry. */
  private sttFailures = 0;
  private sttRetry?: NodeJS.Timeout;
  private idleWaiters: Array<() => void> = [];
  /** Commits sent to the stt stream whose utterance has not come back yet (speech_stopped or no_speech). */
  private commitsInFlight = 0;
  /** respond() asked while a committed utterance was still on its way: answered when it is transcribed. */
  private requestedAnswer?: { text?: string };

  constructor(
    query: LiveQuery,
    sessionId: string,
    private readonly ports: LiveConversationPorts,
    private readonly options: LiveConversationOptions,
    behaviour: LiveBehaviour = LIVE_SOCKET_BEHAVIOUR,
  ) {
    this.settings = { ...query, session_id: sessionId };
    this.behaviour = { ...behaviour };
  }

  start(): void {
    this.openStt();
    this.ports.send('ready', { session_id: this.settings.session_id, sample_rate: LIVE_SAMPLE_RATE });
    this.touch();
    this.keepaliveTimer = setInterval(() => {
      if (performance.now() - this.lastAudioForwardedAt >= this.options.sttKeepaliveMs) this.stt?.stream.keepalive();
    }, this.options.sttKeepaliveMs);
  }

  /** A binary message: PCM16 LE mono 16 kHz. */
  audio(bytes: Uint8Array): void {
    this.touch();
    if (bytes.byteLength % 2 !== 0) {
      this.error(undefined, new ParleyError('INVALID_REQUEST', 'audio must be PCM 16-bit: an even number of bytes'));
      return;
    }
    const offset = this.samples;
    this.samples += bytes.byteLength / 2;
    this.noteArrival();
    this.lastAudioForwardedAt = performance.now();
    this.stt?.stream.audio(offset, bytes);
  }

  /** A text message (JSON). */
  message(text: string): void {
    this.touch();
    let parsed: LiveClientMessage;
    try {
      const result = liveClientMessageSchema.safeParse(JSON.parse(text));
      if (!result.success) throw new ParleyError('INVALID_REQUEST', `Invalid message: ${describeIssues(result.error)}`);
      parsed = result.data;
    } catch (error) {
      const failure = error instanceof ParleyError ? error : new ParleyError('INVALID_REQUEST', 'a text message must be JSON: {"type": ...}');
      this.error(undefined, failure);
      return;
    }
    switch (parsed.type) {
      case 'settings': {
        const { type: _type, ...changes } = parsed;
        this.configure(changes);
        return;
      }
      case 'text':
        this.typed(parsed.message);
        return;
      case 'commit':
        this.commit();
        return;
      case 'interrupt':
        this.cutCurrentTurn({ joinable: false });
        return;
      case 'played':
        if (this.turn?.id === parsed.turn_id) this.turn.playback.played(parsed.ms);
        return;
    }
  }

  // ---- what a protocol can ask of the conversation

  /**
   * Changes the turn settings (undefined fields are kept, null ones cleared) and the behaviour. A new detection or
   * language reopens the stt stream: an utterance still being heard ends with `interrupted` (heard '').
   */
  configure(settings: SettingChanges, behaviour: Partial<LiveBehaviour> = {}): void {
    this.touch();
    const heardBy = JSON.stringify([this.behaviour.detection, this.settings.language]);
    const target = this.settings as Record<string, unknown>;
    for (const [name, value] of Object.entries(settings)) {
      if (value === null) delete target[name];
      else if (value !== undefined) target[name] = value;
    }
    Object.assign(this.behaviour, Object.fromEntries(Object.entries(behaviour).filter(([, v]) => v !== undefined)));
    if (heardBy !== JSON.stringify([this.behaviour.detection, this.settings.language])) {
      this.dropUnfinishedUtterance();
      this.stt?.subscription.unsubscribe();
      this.stt = undefined;
      this.turnOfUtterance.clear();
      clearTimeout(this.sttRetry);
      this.openStt();
    }
  }

  /** A typed turn: any turn in progress is cut (barge-in), and the message is answered. */
  typed(message: string): void {
    this.touch();
    this.cutCurrentTurn({ joinable: false });
    this.beginTypedTurn(message);
  }

  /** Ends the utterance in progress now (push-to-talk; with manual detection, the audio since the last commit). */
  commit(): void {
    this.touch();
    if (!this.stt) return;
    this.commitsInFlight += 1;
    this.stt.stream.commit();
  }

  /** Forgets the utterance in progress: it gets no transcript and no answer. */
  clearInput(): void {
    this.touch();
    this.stt?.stream.clear();
    this.dropUnfinishedUtterance();
  }

  /**
   * Answers now (autoRespond off): the transcribed utterance waiting for it, with `text` added
   * (a typed message), or `text` alone. An utterance committed but not transcribed yet (a client
   * that commits and asks at once) is answered as soon as it is (`waiting`). `busy`: an answer
   * is in progress or asked for already; `nothing`: nothing to answer.
   */
  respond(text?: string): 'answering' | 'waiting' | 'busy' | 'nothing' {
    this.touch();
    const turn = this.turn;
    if (turn?.phase === 'answering' || this.requestedAnswer) return 'busy';
    if (turn?.phase === 'transcribed') {
      this.startAnswer(turn, [turn.userText, text].filter(Boolean).join(' '));
      return 'answering';
    }
    if (this.commitsInFlight > 0 || turn?.phase === 'transcribing') {
      this.requestedAnswer = { text };
      return 'waiting';
    }
    if (!text) return 'nothing';
    this.cutCurrentTurn({ joinable: false });
    this.beginTypedTurn(text);
    return 'answering';
  }

  /** Stops the answer in progress (as `interrupt` does); false when no answer is in progress. */
  cancelAnswer(): boolean {
    this.touch();
    if (this.turn?.phase !== 'answering') return false;
    this.cutCurrentTurn({ joinable: false });
    return true;
  }

  /** The socket closed: everything of this connection stops. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.sttRetry);
    this.stt?.subscription.unsubscribe();
    this.stt = undefined;
    if (this.turn) this.stopAnswer(this.turn);
    this.wakeIdleWaiters();
  }

  /** The server is going away before this turn could finish: it ends with one `error` and nothing is stored. */
  abandonTurn(failure: ParleyError): void {
    const turn = this.turn;
    if (!turn || !this.busy) return;
    this.finishTurn(turn, 'error');
    this.error(turn.id, failure);
  }

  /** Resolves when no turn is in progress (or at once). */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get busy(): boolean {
    return !this.closed && this.turn !== undefined && this.turn.phase !== 'done' && this.turn.phase !== 'transcribed';
  }

  // ---- stt stream

  private openStt(): void {
    if (this.closed) return;
    const stream = this.ports.openStt(this.samples, { detection: this.behaviour.detection, language: this.settings.language });
    let opened = false;
    const subscription = stream.events.subscribe({
      next: (event) => {
        if (event.type === 'opened') {
          opened = true;
          this.sttFailures = 0;
        }
        this.onSttEvent(event);
      },
      error: (error: unknown) => this.onSttLost(ParleyError.from(error, 'SERVICE_UNAVAILABLE'), opened),
      complete: () => this.onSttLost(new ParleyError('SERVICE_UNAVAILABLE', 'the speech recogniser ended the stream'), opened),
    });
    this.stt = { stream, subscription };
  }

  /**
   * The stt replica died or went away: a turn whose utterance it held ends with `error`, and a
   * new stream (another replica) carries on from the same clock.
   */
  private onSttLost(failure: ParleyError, wasOpen: boolean): void {
    if (this.closed) return;
    this.stt = undefined;
    if (!wasOpen) {
      // No replica would take the stream (none running, all busy): say so once, retry with backoff.
      if (this.sttFailures++ === 0) this.error(undefined, new ParleyError(failure.code, `listening is unavailable for now: ${failure.message}`));
      this.sttRetry = setTimeout(() => this.openStt(), Math.min(5000, 250 * 2 ** this.sttFailures));
      return;
    }
    this.logger.warn(`live stt stream lost (${failure.code}: ${failure.message}); reopening`);
    const turn = this.turn;
    if (turn && (turn.phase === 'listening' || turn.phase === 'transcribing')) {
      this.finishTurn(turn, 'error');
      this.error(turn.id, new ParleyError(failure.code === 'TIMEOUT' ? 'TIMEOUT' : 'SERVICE_UNAVAILABLE', `the speech recogniser was lost mid-utterance: ${failure.message}`));
    }
    // Utterance ids belong to a stream: the new one numbers its own.
    this.turnOfUtterance.clear();
    this.openStt();
  }

  private onSttEvent(event: LiveEvent): void {
    switch (event.type) {
      case 'speech_started':
        return this.onSpeechStarted(event.utterance_id, event.at_ms);
      case 'partial_transcription': {
        const turn = this.turnOfUtterance.get(event.utterance_id);
        if (turn && turn.phase === 'listening') this.ports.send('partial_transcription', { turn_id: turn.id, transcript: event.transcript });
        return;
      }
      case 'speech_stopped': {
        const turn = this.turnOfUtterance.get(event.utterance_id);
        if (!turn || turn.phase === 'done') return;
        if (event.reason === 'commit' && this.commitsInFlight > 0) this.commitsInFlight -= 1;
        turn.phase = 'transcribing';
        turn.speechEndedAt = this.arrivalOf(event.at_ms * LIVE_SAMPLES_PER_MS);
        this.ports.send('speech_stopped', { turn_id: turn.id, at_ms: event.at_ms });
        return;
      }
      case 'transcription':
        return this.onFinal(event.utterance_id, event.text);
      case 'transcription_failed': {
        const turn = this.turnOfUtterance.get(event.utterance_id);
        if (!turn || turn.phase === 'done') return;
        this.finishTurn(turn, 'error');
        this.error(turn.id, new ParleyError(event.code, event.message));
        this.requestedAnswerLost();
        return;
      }
      case 'no_speech':
        this.commitsInFlight = Math.max(0, this.commitsInFlight - 1);
        this.error(undefined, new ParleyError('NO_SPEECH', 'commit: no speech since the last utterance'));
        if (this.commitsInFlight === 0 && this.turn?.phase !== 'transcribing') this.requestedAnswerLost();
        return;
      case 'frame_rejected':
        this.logger.warn(`the stt-service rejected a frame: ${event.message}`);
        return;
      default:
        return; // opened, heartbeat
    }
  }

  // ---- turns

  private onSpeechStarted(utteranceId: number, atMs: number): void {
    const joined = this.cutCurrentTurn({ joinable: true });
    const turn = this.newTurn();
    if (joined) {
      turn.utterances.push(...joined.utterances);
      for (const [id, text] of joined.texts) turn.texts.set(id, text);
      for (const id of joined.utterances) if (!joined.texts.has(id)) this.turnOfUtterance.set(id, turn);
    }
    turn.utterances.push(utteranceId);
    this.turnOfUtterance.set(utteranceId, turn);
    this.ports.send('speech_started', { turn_id: turn.id, at_ms: atMs });
  }

  private onFinal(utteranceId: number, text: string): void {
    const turn = this.turnOfUtterance.get(utteranceId);
    this.turnOfUtterance.delete(utteranceId);
    if (!turn || turn.phase === 'done') return;
    turn.texts.set(utteranceId, text.trim());
    // Joined utterances: answer once every one of them is transcribed, and the learner is not speaking again.
    if (turn.phase !== 'transcribing' || turn.utterances.some((id) => !turn.texts.has(id))) return;
    const userText = turn.utterances.map((id) => turn.texts.get(id)).filter(Boolean).join(' ');
    if (turn.speechEndedAt !== undefined) this.ports.metrics.speechEndToTranscription((performance.now() - turn.speechEndedAt) / 1000);
    if (!userText) {
      this.finishTurn(turn, 'error');
      this.error(turn.id, new ParleyError('NO_SPEECH', 'no speech was recognised; please speak and try again'));
      this.requestedAnswerLost();
      return;
    }
    this.ports.send('transcription', { turn_id: turn.id, text: userText, language: this.settings.language });
    if (this.behaviour.autoRespond) return this.startAnswer(turn, userText);
    const requested = this.requestedAnswer;
    this.requestedAnswer = undefined;
    if (requested) return this.startAnswer(turn, [userText, requested.text].filter(Boolean).join(' '));
    turn.phase = 'transcribed';
    turn.userText = userText;
  }

  /** The committed utterance an answer was asked for came to nothing: only the typed text (if any) is answered. */
  private requestedAnswerLost(): void {
    const requested = this.requestedAnswer;
    this.requestedAnswer = undefined;
    if (requested?.text) this.beginTypedTurn(requested.text);
  }

  private beginTypedTurn(message: string): void {
    const turn = this.newTurn();
    turn.typed = message;
    this.startAnswer(turn, message);
  }

  private newTurn(): Turn {
    const turn: Turn = {
      id: `t${++this.turnCount}`,
      utterances: [],
      texts: new Map(),
      phase: 'listening',
      playback: new PlaybackClock(),
      firstAudioSent: false,
    };
    this.turn = turn;
    return turn;
  }

  private startAnswer(turn: Turn, userText: string): void {
    turn.phase = 'answering';
    turn.userText = userText;
    turn.answer = this.ports.answer(this.settings, userText).subscribe({
      next: (event) => this.onAnswerEvent(turn, event),
      error: (error: unknown) => {
        if (turn.phase === 'done') return;
        this.finishTurn(turn, 'error');
        this.error(turn.id, ParleyError.from(error));
      },
    });
  }

  private onAnswerEvent(turn: Turn, event: AnswerEvent): void {
    if (turn.phase === 'done') return;
    if (event.event === 'complete') {
      // A live turn completes when its answer has been spoken; the turn is stored then.
      const delay = this.behaviour.completeAfterPlayback ? Math.max(0, turn.playback.endsAt() - performance.now()) : 0;
      turn.completeTimer = setTimeout(() => {
        if (turn.phase === 'done') return;
        this.finishTurn(turn, 'complete');
        this.ports.send('complete', { ...event.data, turn_id: turn.id });
        const full = (event.data as { full_response?: string }).full_response ?? '';
        void this.ports.store(this.settings, turn.userText ?? '', full);
      }, delay);
      return;
    }
    if (event.event === 'error') {
      this.finishTurn(turn, 'error');
      this.ports.send('error', { ...event.data, turn_id: turn.id });
      return;
    }
    if (event.event === 'audio') {
      const data = event.data as { sentence: string; sample_rate: number; audio: string };
      turn.playback.queue(data.sentence, wavDurationMs(data.audio, data.sample_rate));
      if (!turn.firstAudioSent && turn.speechEndedAt !== undefined) {
        this.ports.metrics.speechEndToFirstAudio((performance.now() - turn.speechEndedAt) / 1000);
      }
      turn.firstAudioSent = true;
    }
    this.ports.send(event.event, { ...event.data, turn_id: turn.id });
  }

  /**
   * Barge-in: ends the turn in progress with `interrupted` (generation and synthesis stop).
   * If none of its audio had started playing and `joinable` (new speech), the learner had only
   * paused: the cut turn is returned so its utterance joins the new one, and nothing is stored.
   * Otherwise the learner's words and what they heard are stored.
   */
  private cutCurrentTurn({ joinable }: { joinable: boolean }): Turn | undefined {
    const turn = this.turn;
    if (!turn || turn.phase === 'done') return undefined;
    const heard = turn.playback.heard();
    const join = joinable && !turn.playback.started && turn.typed === undefined;
    this.finishTurn(turn, 'interrupted');
    this.ports.send('interrupted', { turn_id: turn.id, heard: join ? '' : heard });
    if (join) return turn;
    const userText = turn.userText ?? turn.utterances.map((id) => turn.texts.get(id)).filter(Boolean).join(' ');
    if (userText) void this.ports.store(this.settings, userText, heard);
    return undefined;
  }

  /** An utterance being heard or transcribed (not answered yet) is dropped: `interrupted` with nothing heard. */
  private dropUnfinishedUtterance(): void {
    const turn = this.turn;
    if (!turn || turn.typed !== undefined || !['listening', 'transcribing'].includes(turn.phase)) return;
    this.finishTurn(turn, 'interrupted');
    this.ports.send('interrupted', { turn_id: turn.id, heard: '' });
  }

  private finishTurn(turn: Turn, outcome: 'complete' | 'interrupted' | 'error'): void {
    if (turn.phase === 'done') return;
    turn.phase = 'done';
    this.stopAnswer(turn);
    this.ports.metrics.turnEnded(outcome);
    if (this.turn === turn) this.wakeIdleWaiters();
  }

  private stopAnswer(turn: Turn): void {
    clearTimeout(turn.completeTimer);
    turn.answer?.unsubscribe();
  }

  private error(turnId: string | undefined, failure: ParleyError): void {
    this.ports.send('error', { error: failure.message, code: failure.code, ...(turnId ? { turn_id: turnId } : {}) });
  }

  // ---- clocks

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.ports.close(LIVE_CLOSE_CODES.normal, 'idle: no audio and no message');
    }, this.options.idleTimeoutMs);
  }

  private noteArrival(): void {
    this.arrivals.push([this.samples, performance.now()]);
    if (this.arrivals.length > 2048) this.arrivals.splice(0, this.arrivals.length - 2048);
  }

  /** When the audio message holding `sample` arrived. */
  private arrivalOf(sample: number): number {
    for (const [end, at] of this.arrivals) if (end >= sample) return at;
    return performance.now();
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((resolve) => resolve());
  }
}

/** Playing time of a base64 16-bit mono WAV (44-byte header). */
export function wavDurationMs(base64: string, sampleRate: number): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const bytes = (base64.length * 3) / 4 - padding;
  return (Math.max(0, bytes - 44) / 2 / sampleRate) * 1000;
}
