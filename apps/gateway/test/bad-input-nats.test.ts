/**
 * The bad-input battery on the broker (issue 12, item 2): payloads published straight to every
 * subject the services listen on, with a raw NATS client (as a client in another language, or a
 * bug, would), not through the gateway. Each gets an error reply saying what is wrong, at once:
 * never silence until the caller's timeout, never a crash. Afterwards every service answers its
 * health subject and a normal request still succeeds. Real services, generated models, a private broker.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from '@nats-io/obj';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import { AUDIO_BUCKET, cancelSubject, LIVE_SUBJECTS, liveAudioSubject, SUBJECTS } from '@parley/contracts';
import { encodeBinaryFrame, openObjectStore } from '@parley/service-kit';
import { startNatsServer, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { deeplyNested, describeError, huge, observeCase, toneWav, wavHeader, type BadInputCase, type ObservedError } from './bad-input-support.js';
import { makeSpeech } from './support.js';
import { startModelServices } from './system-support.js';

/** A reply packet as NestJS's NATS transport sends it. */
interface ReplyPacket {
  id?: string | null;
  response?: Record<string, any>;
  err?: { code: string; message: string };
  isDisposed?: boolean;
}

const REPLY_TIMEOUT_MS = 20_000;
let serial = 0;
/** A fresh valid request id (8-64 of [A-Za-z0-9_-]). */
const rid = () => `battery${String(++serial).padStart(4, '0')}${Date.now().toString(36)}`;
/** NestJS's request packet, as any client must send it. */
const packet = (subject: string, data: unknown) => JSON.stringify({ pattern: subject, data, id: `raw-${serial}` });

describe('the bad-input battery on the NATS subjects', () => {
  let nats: TestNatsServer;
  let dir: string;
  let services: SpawnedService[];
  let nc: NatsConnection;
  let bucket: ObjectStore;
  let speechWav: Buffer;

  /**
   * Publishes `payload` with a reply inbox and collects replies until the one that ends the
   * exchange (an error, or `isDisposed`), skipping heartbeats. `until` may end it earlier.
   */
  async function exchange(subject: string, payload: string | Uint8Array, until?: (reply: ReplyPacket) => boolean): Promise<ReplyPacket[]> {
    const inbox = createInbox();
    const subscription = nc.subscribe(inbox);
    const replies: ReplyPacket[] = [];
    const timer = setTimeout(() => subscription.unsubscribe(), REPLY_TIMEOUT_MS);
    nc.publish(subject, payload, { reply: inbox });
    for await (const msg of subscription) {
      let reply: ReplyPacket;
      try {
        reply = msg.json<ReplyPacket>();
      } catch {
        reply = { response: { binary: msg.data.byteLength } };
      }
      if (reply.response?.heartbeat === true || reply.response?.type === 'heartbeat') continue;
      replies.push(reply);
      if (reply.err || reply.isDisposed || until?.(reply)) break;
    }
    clearTimeout(timer);
    subscription.unsubscribe();
    return replies;
  }

  /** The error that ended the exchange; fails the test when there was none (silence or success). */
  async function errorReply(subject: string, payload: string | Uint8Array): Promise<ObservedError> {
    const replies = await exchange(subject, payload);
    const last = replies.at(-1);
    if (!last?.err) throw new Error(`expected an error reply on ${subject}, got ${replies.length ? JSON.stringify(replies).slice(0, 300) : `nothing within ${REPLY_TIMEOUT_MS} ms`}`);
    return last.err;
  }

  async function upload(bytes: Uint8Array): Promise<string> {
    const name = rid();
    await bucket.putBlob({ name }, bytes);
    return name;
  }

  const health = async (subject: string) => (await exchange(subject, packet(subject, {})))[0]?.response;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-battery-nats-'));
    speechWav = await readFile(makeSpeech(dir, 'Hello! My name is Anna.').wav);
    services = await startModelServices(nats.url, dir);
    nc = await connect({ servers: nats.url });
    bucket = await openObjectStore(nc, AUDIO_BUCKET);
    await waitUntil(
      async () => {
        const states = await Promise.all([SUBJECTS.llm.health, SUBJECTS.stt.health, SUBJECTS.tts.health].map((s) => health(s).catch(() => undefined)));
        return states.every((h) => h?.status === 'loaded');
      },
      'every service loaded',
      90_000,
    ).catch((error) => {
      throw new Error(`${String(error)}\n${services.map((s) => `--- ${s.name}\n${s.output()}`).join('\n')}`);
    });
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all((services ?? []).map((s) => s.stop()));
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  type Expected = { code: string; message: RegExp };
  type NatsCase = BadInputCase<Expected> & { payload: () => string | Uint8Array | Promise<string | Uint8Array> };

  const chat = (data: Record<string, unknown>) => packet(SUBJECTS.llm.chat, { request_id: rid(), messages: [{ role: 'user', content: 'Hola' }], ...data });
  const synth = (data: Record<string, unknown>) => packet(SUBJECTS.tts.synthesize, { request_id: rid(), text: 'Hola, ¿qué tal?', language: 'es', ...data });
  const transcribeObject = async (bytes: Uint8Array, data: Record<string, unknown> = {}) =>
    packet(SUBJECTS.stt.transcribe, { request_id: rid(), audio_object: await upload(bytes), language: 'auto', ...data });
  const invalid = (message: RegExp): Expected => ({ code: 'INVALID_REQUEST', message });

  const families: Array<{ subject: string; cases: NatsCase[] }> = [
    {
      subject: SUBJECTS.llm.chat,
      cases: [
        { id: 'nats.llm.chat.malformed-json', input: 'bytes that are not JSON (`{"pattern":`)', payload: () => '{"pattern":', expected: invalid(/not JSON/) },
        { id: 'nats.llm.chat.invalid-utf8', input: 'invalid UTF-8 bytes (ff fe 00)', payload: () => new Uint8Array([0xff, 0xfe, 0x00]), expected: invalid(/not JSON/) },
        { id: 'nats.llm.chat.empty-payload', input: 'an empty message', payload: () => new Uint8Array(0), expected: invalid(/not JSON/) },
        { id: 'nats.llm.chat.no-envelope', input: 'a chat request not wrapped in a request packet (no id)', payload: () => JSON.stringify({ request_id: rid(), messages: [{ role: 'user', content: 'Hola' }] }), expected: invalid(/no "id"/) },
        { id: 'nats.llm.chat.json-array', input: 'a JSON array instead of a packet', payload: () => '[1,2,3]', expected: invalid(/no "id"/) },
        { id: 'nats.llm.chat.null-data', input: 'packet with data null', payload: () => packet(SUBJECTS.llm.chat, null), expected: invalid(/expected object/) },
        { id: 'nats.llm.chat.missing-messages', input: 'no messages', payload: () => packet(SUBJECTS.llm.chat, { request_id: rid() }), expected: invalid(/messages/) },
        { id: 'nats.llm.chat.messages-not-array', input: 'messages is a string', payload: () => chat({ messages: 'hello' }), expected: invalid(/messages/) },
        { id: 'nats.llm.chat.empty-messages', input: 'messages is []', payload: () => chat({ messages: [] }), expected: invalid(/messages/) },
        { id: 'nats.llm.chat.last-not-user', input: 'last message from the assistant', payload: () => chat({ messages: [{ role: 'assistant', content: 'Hola' }] }), expected: invalid(/last message must be from the user/) },
        { id: 'nats.llm.chat.unknown-role', input: "role 'tool'", payload: () => chat({ messages: [{ role: 'tool', content: 'x' }] }), expected: invalid(/role/) },
        { id: 'nats.llm.chat.huge-content', input: 'a 100,000-character message', payload: () => chat({ messages: [{ role: 'user', content: huge(100_000) }] }), expected: invalid(/content/) },
        { id: 'nats.llm.chat.too-many-messages', input: '1,000 messages (history abuse)', payload: () => chat({ messages: Array.from({ length: 1000 }, () => ({ role: 'user', content: 'hi' })) }), expected: invalid(/messages/) },
        { id: 'nats.llm.chat.deep-json', input: 'an unknown field nested 5,000 arrays deep', payload: () => deeplyNested(5000, { pattern: SUBJECTS.llm.chat, id: 'deep', data: { request_id: rid() } }, 'x'), expected: invalid(/messages/) },
        { id: 'nats.llm.chat.max-tokens-huge', input: 'max_tokens 1e308', payload: () => chat({ max_tokens: 1e308 }), expected: invalid(/max_tokens/) },
        { id: 'nats.llm.chat.max-tokens-negative', input: 'max_tokens -5', payload: () => chat({ max_tokens: -5 }), expected: invalid(/max_tokens/) },
        { id: 'nats.llm.chat.temperature-string', input: 'temperature "hot"', payload: () => chat({ temperature: 'hot' }), expected: invalid(/temperature/) },
        { id: 'nats.llm.chat.request-id-path', input: "request_id '../../etc/passwd'", payload: () => chat({ request_id: '../../etc/passwd' }), expected: invalid(/request_id/) },
        { id: 'nats.llm.chat.bad-response-format', input: 'response_format {"type":"xml"}', payload: () => chat({ response_format: { type: 'xml' } }), expected: invalid(/response_format/) },
      ],
    },
    {
      subject: SUBJECTS.llm.health,
      cases: [{ id: 'nats.llm.health.malformed-json', input: 'bytes that are not JSON', payload: () => 'health?', expected: invalid(/not JSON/) }],
    },
    {
      subject: SUBJECTS.stt.transcribe,
      cases: [
        { id: 'nats.stt.transcribe.object-path', input: "audio_object '../../etc/passwd'", payload: () => packet(SUBJECTS.stt.transcribe, { request_id: rid(), audio_object: '../../etc/passwd' }), expected: invalid(/audio_object/) },
        { id: 'nats.stt.transcribe.missing-object', input: 'an audio_object that was never uploaded', payload: () => packet(SUBJECTS.stt.transcribe, { request_id: rid(), audio_object: 'neveruploaded1' }), expected: { code: 'NOT_FOUND', message: /neveruploaded1|not found|no such/i } },
        { id: 'nats.stt.transcribe.not-audio', input: 'an uploaded object that is JSON, not audio', payload: () => transcribeObject(Buffer.from('{"this":"is not audio"}')), expected: { code: 'UNSUPPORTED_MEDIA', message: /not an audio file/ } },
        { id: 'nats.stt.transcribe.zero-length', input: 'a zero-length object', payload: () => transcribeObject(new Uint8Array(0)), expected: invalid(/empty/) },
        { id: 'nats.stt.transcribe.truncated-wav', input: 'a 1 s WAV cut to its first third', payload: () => transcribeObject(toneWav(16000, 1).subarray(0, 10_700)), expected: invalid(/truncated/) },
        { id: 'nats.stt.transcribe.wav-claims-gigabytes', input: 'a WAV header claiming 4 GB of data, 2 KB of silence present', payload: () => transcribeObject(Buffer.concat([wavHeader(16000, 0xfffffff0), Buffer.alloc(2048)])), expected: { code: 'NO_SPEECH', message: /no speech detected/ } },
        { id: 'nats.stt.transcribe.odd-sample-rate', input: 'a WAV at 3 Hz', payload: () => transcribeObject(toneWav(3, 100)), expected: invalid(/sample rate/) },
        { id: 'nats.stt.transcribe.unknown-language', input: "language 'klingon'", payload: () => transcribeObject(speechWav, { language: 'klingon' }), expected: invalid(/language/) },
        { id: 'nats.stt.transcribe.candidates-wrong-type', input: 'candidate_languages "es"', payload: () => transcribeObject(speechWav, { candidate_languages: 'es' }), expected: invalid(/candidate_languages/) },
      ],
    },
    {
      subject: SUBJECTS.stt.health,
      cases: [{ id: 'nats.stt.health.no-envelope', input: 'JSON without a request packet', payload: () => '{"status":"?"}', expected: invalid(/no "id"/) }],
    },
    {
      subject: LIVE_SUBJECTS.open,
      cases: [
        { id: 'nats.stt.live-open.unknown-language', input: "language 'xx-yy'", payload: () => packet(LIVE_SUBJECTS.open, { request_id: rid(), language: 'xx-yy' }), expected: invalid(/language/) },
        { id: 'nats.stt.live-open.negative-start', input: 'start_sample -1', payload: () => packet(LIVE_SUBJECTS.open, { request_id: rid(), start_sample: -1 }), expected: invalid(/start_sample/) },
        { id: 'nats.stt.live-open.malformed-json', input: 'bytes that are not JSON', payload: () => '\u0000\u0001', expected: invalid(/not JSON/) },
      ],
    },
    {
      subject: SUBJECTS.tts.synthesize,
      cases: [
        { id: 'nats.tts.synthesize.nothing-speakable', input: 'text of control characters and punctuation', payload: () => synth({ text: '\u0001\u0002 ... !?' }), expected: invalid(/nothing to speak/) },
        { id: 'nats.tts.synthesize.empty-text', input: 'text ""', payload: () => synth({ text: '' }), expected: invalid(/empty/) },
        { id: 'nats.tts.synthesize.huge-text', input: 'text of 200,000 characters', payload: () => synth({ text: huge(200_000, 'hola ') }), expected: invalid(/at most 5000/) },
        { id: 'nats.tts.synthesize.unknown-voice', input: "voice '../../etc/passwd'", payload: () => synth({ voice: '../../etc/passwd' }), expected: invalid(/unknown voice/) },
        { id: 'nats.tts.synthesize.speed-huge', input: 'speed 1e308', payload: () => synth({ speed: 1e308 }), expected: invalid(/speed/) },
        { id: 'nats.tts.synthesize.speed-zero', input: 'speed 0', payload: () => synth({ speed: 0 }), expected: invalid(/speed/) },
        { id: 'nats.tts.synthesize.speaker-negative', input: 'speaker_id -1', payload: () => synth({ speaker_id: -1 }), expected: invalid(/speaker_id/) },
        { id: 'nats.tts.synthesize.missing-language', input: 'no language', payload: () => packet(SUBJECTS.tts.synthesize, { request_id: rid(), text: 'Hola' }), expected: invalid(/language/) },
        { id: 'nats.tts.synthesize.text-wrong-type', input: 'text {"a":1}', payload: () => synth({ text: { a: 1 } }), expected: invalid(/text/) },
      ],
    },
    {
      subject: SUBJECTS.tts.voices,
      cases: [{ id: 'nats.tts.voices.malformed-json', input: 'bytes that are not JSON', payload: () => '{"pattern":', expected: invalid(/not JSON/) }],
    },
    {
      subject: SUBJECTS.tts.health,
      cases: [{ id: 'nats.tts.health.invalid-utf8', input: 'invalid UTF-8 bytes', payload: () => new Uint8Array([0xc3, 0x28, 0xa0, 0xa1]), expected: invalid(/not JSON/) }],
    },
  ];

  describe.each(families)('$subject', ({ subject, cases }) => {
    it.each(cases)('$id: $input → an error reply', async (c) => {
      const payload = await c.payload();
      const error = await observeCase(`nats ${subject}`, c, () => errorReply(subject, payload), (e) => `error reply ${describeError(e)}`);
      expect(error).toEqual({ code: c.expected.code, message: expect.stringMatching(c.expected.message) });
    });
  });

  /** Frames on a live stream's audio subject (the caller publishes, only the owning replica listens). */
  describe('the live audio subject (parley.v1.stt.live.audio.<stream>)', () => {
    type FrameCase = BadInputCase<RegExp> & { frame: () => Uint8Array };
    const frames: FrameCase[] = [
      { id: 'nats.stt.live-audio.odd-length', input: 'an audio frame of 3 bytes (PCM16 needs an even number)', frame: () => encodeBinaryFrame({ type: 'audio', offset: 0, pcm: new Uint8Array(3) }), expected: /even number of bytes/ },
      { id: 'nats.stt.live-audio.not-a-frame', input: 'plain JSON instead of a binary frame', frame: () => new TextEncoder().encode('{"type":"audio"}'), expected: /frame/ },
      { id: 'nats.stt.live-audio.unknown-type', input: 'a frame of type "dance"', frame: () => encodeBinaryFrame({ type: 'dance' }), expected: /type/ },
      { id: 'nats.stt.live-audio.negative-offset', input: 'an audio frame at offset -16000', frame: () => encodeBinaryFrame({ type: 'audio', offset: -16000, pcm: new Uint8Array(320) }), expected: /offset/ },
      { id: 'nats.stt.live-audio.header-past-end', input: 'a binary frame whose header length points past its end', frame: () => Uint8Array.from([0x50, 0x42, 0x46, 0x31, 0x7f, 0xff, 0xff, 0xff, 0x7b]), expected: /frame/ },
    ];

    it.each(frames)('$id: $input → frame_rejected, the stream goes on', async (c) => {
      const streamId = rid();
      const events: Array<Record<string, any>> = [];
      const inbox = createInbox();
      const subscription = nc.subscribe(inbox);
      const collecting = (async () => {
        for await (const msg of subscription) {
          const reply = msg.json<ReplyPacket>();
          if (reply.response) events.push(reply.response);
          if (reply.err || reply.isDisposed) break;
        }
      })();
      nc.publish(LIVE_SUBJECTS.open, packet(LIVE_SUBJECTS.open, { request_id: streamId, language: 'en' }), { reply: inbox });
      await waitUntil(() => events.some((e) => e.type === 'opened'), 'the live stream to open', 20_000, 10);
      const rejected = await observeCase(
        `nats ${liveAudioSubject('<stream>')}`,
        c,
        async () => {
          nc.publish(liveAudioSubject(streamId), c.frame());
          return (await waitUntil(() => events.find((e) => e.type === 'frame_rejected'), 'frame_rejected', REPLY_TIMEOUT_MS, 10)) as Record<string, any>;
        },
        (event) => `event frame_rejected: ${event.message}; the stream stays open`,
      );
      expect(rejected.message).toMatch(c.expected);
      // The stream still takes frames: a commit with no speech is answered.
      nc.publish(liveAudioSubject(streamId), encodeBinaryFrame({ type: 'commit' }));
      await waitUntil(() => events.some((e) => e.type === 'no_speech'), 'the stream to answer a commit after the bad frame', REPLY_TIMEOUT_MS, 10);
      nc.publish(cancelSubject('stt', streamId), '');
      subscription.unsubscribe();
      await collecting;
    });
  });

  it('leaves every service answering health, and a normal request of each still succeeds', async () => {
    for (const subject of [SUBJECTS.llm.health, SUBJECTS.stt.health, SUBJECTS.tts.health]) {
      expect(await health(subject)).toEqual(expect.objectContaining({ status: 'loaded' }));
    }
    const answer = await exchange(SUBJECTS.llm.chat, chat({ max_tokens: 8 }));
    expect(answer.at(-1)).toEqual(expect.objectContaining({ isDisposed: true }));
    expect(answer.some((r) => r.response?.type === 'done')).toBe(true);
    const transcript = await exchange(SUBJECTS.stt.transcribe, await transcribeObject(speechWav));
    expect(transcript.find((r) => r.response?.text !== undefined)?.response?.text).toMatch(/\S/);
    const speech = await exchange(SUBJECTS.tts.synthesize, synth({}));
    expect(speech.at(-1)?.err).toBeUndefined();
    expect(speech.some((r) => r.response?.binary !== undefined || r.response?.type === 'done')).toBe(true);
  });
});
