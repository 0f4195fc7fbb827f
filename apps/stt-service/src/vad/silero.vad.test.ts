import { LIVE_SAMPLE_RATE } from '@parley/contracts';
import { concatPcm, silencePcm, spokenPcm } from '@parley/models/fixtures/speech';
import { SileroVadPool } from './silero.vad.js';
import type { VoiceActivity } from './voice-activity-detector.port.js';

const toFloat = (pcm: Int16Array) => Float32Array.from(pcm, (s) => s / 32768);

/** The real Silero v5 model from npm, on espeak-ng speech placed at known samples. */
describe('SileroVadPool (real Silero v5 through sherpa-onnx)', () => {
  const settings = { threshold: 0.5, minSpeechMs: 250, minSilenceMs: 500, maxSpeechMs: 20_000 };
  const pool = new SileroVadPool(settings, { modelPath: undefined, warm: 1, maxIdle: 2 });
  let speech: Int16Array;

  beforeAll(async () => {
    await pool.load();
    speech = spokenPcm('Hello there. I would like a coffee.');
  });

  function run(samples: Float32Array, chunk: number): VoiceActivity[] {
    const detector = pool.acquire();
    const events: VoiceActivity[] = [];
    for (let at = 0; at < samples.length; at += chunk) events.push(...detector.accept(samples.subarray(at, at + chunk)));
    events.push(...detector.flush());
    detector.release();
    return events;
  }

  it('says where speech starts when it detects it: the same start sherpa-onnx reports at the end', () => {
    const { pcm, starts } = concatPcm(silencePcm(1500), speech, silencePcm(2000), speech, silencePcm(1000));
    const events = run(toFloat(pcm), 640);
    expect(events.map((e) => e.type)).toEqual(['speech_started', 'speech_ended', 'speech_started', 'speech_ended']);
    const [start1, end1, start2, end2] = events as [Extract<VoiceActivity, { type: 'speech_started' }>, Extract<VoiceActivity, { type: 'speech_ended' }>, Extract<VoiceActivity, { type: 'speech_started' }>, Extract<VoiceActivity, { type: 'speech_ended' }>];
    expect(start1.start).toBe(end1.start);
    expect(start2.start).toBe(end2.start);
    const ms = (samples: number) => (samples * 1000) / LIVE_SAMPLE_RATE;
    expect(Math.abs(ms(start1.start - starts[1]!))).toBeLessThan(100);
    expect(Math.abs(ms(start2.start - starts[3]!))).toBeLessThan(100);
    // The detector's own end lags the voice a little; the live stream trims it.
    expect(ms(end1.end - (starts[1]! + speech.length))).toBeGreaterThan(-50);
    expect(ms(end1.end - (starts[1]! + speech.length))).toBeLessThan(300);
  });

  it('gives the same answer whatever the frame size, and after a detector is reused', () => {
    const { pcm } = concatPcm(silencePcm(700), speech, silencePcm(1000));
    const samples = toFloat(pcm);
    const reference = run(samples, 640);
    expect(run(samples, 320)).toEqual(reference);
    expect(run(samples, 16_000)).toEqual(reference);
  });

  it("takes a stream's own minimum silence: a longer one joins what a pause split", () => {
    const { pcm } = concatPcm(silencePcm(700), speech, silencePcm(900), speech, silencePcm(2500));
    const samples = toFloat(pcm);
    const ended = (events: VoiceActivity[]) => events.filter((e) => e.type === 'speech_ended').length;
    expect(ended(run(samples, 640))).toBe(2); // 900 ms of silence > the pool's 500 ms
    const own = pool.acquire({ minSilenceMs: 1500 });
    const events: VoiceActivity[] = [];
    for (let at = 0; at < samples.length; at += 640) events.push(...own.accept(samples.subarray(at, at + 640)));
    own.release();
    expect(ended(events)).toBe(1);
    // The pool's own detectors are untouched by a stream's settings.
    expect(ended(run(samples, 640))).toBe(2);
  });
});
