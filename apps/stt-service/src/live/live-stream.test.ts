import type { LiveEvent } from '@parley/contracts';
import { ServiceMetrics } from '@parley/service-kit';
import { LiveMetrics } from './live-metrics.js';
import { LiveStream, type LiveTranscriber } from './live-stream.js';

/** A transcriber fake behind the engine port: it names the length of what it was given. */
function fakeTranscriber(heard: number[]): LiveTranscriber {
  return {
    final: async (samples) => {
      heard.push(samples.length);
      return { text: `${samples.length} samples`, language: 'en', languageProbability: null, segments: [] };
    },
    partial: async () => {
      throw new Error('no partial is expected without a detector');
    },
    acceptsPartials: true,
  };
}

/** Manual detection (OpenAI Realtime's `turn_detection: null`): commits, not silences, end utterances. */
describe('LiveStream with manual detection', () => {
  function stream() {
    const events: LiveEvent[] = [];
    const heard: number[] = [];
    const live = new LiveStream(
      { startSample: 16_000, partials: false, partialIntervalMs: 500, minSilenceMs: 500, maxUtteranceMs: 20_000, maxGapMs: 1000, replica: 'r1' },
      null,
      fakeTranscriber(heard),
      new LiveMetrics(new ServiceMetrics('stt-test')),
      (event) => events.push(event),
    );
    const audio = (offset: number, ms: number) => live.audio(offset, new Uint8Array(ms * 32).fill(1));
    return { live, events, heard, audio, types: () => events.map((e) => e.type) };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

  it('makes the audio since the last commit one utterance, on the caller clock, and answers an empty commit with no_speech', async () => {
    const s = stream();
    s.audio(16_000, 1000);
    expect(s.events).toEqual([]);
    s.live.commit();
    await settle();
    expect(s.events).toEqual([
      { type: 'speech_started', utterance_id: 1, at_ms: 1000 },
      { type: 'speech_stopped', utterance_id: 1, at_ms: expect.any(Number), reason: 'commit' },
      expect.objectContaining({ type: 'transcription', utterance_id: 1, text: '16000 samples', start_ms: 1000 }),
    ]);
    s.live.commit();
    expect(s.events.at(-1)).toEqual({ type: 'no_speech', at_ms: 2000 });
    s.audio(32_000, 500);
    s.live.commit();
    await settle();
    expect(s.heard).toEqual([16_000, 8000]);
    expect(s.events.at(-1)).toEqual(expect.objectContaining({ type: 'transcription', utterance_id: 2, start_ms: 2000 }));
  });

  it('forgets the audio before a clear', async () => {
    const s = stream();
    s.audio(16_000, 500);
    s.live.clear();
    s.audio(24_000, 300);
    s.live.commit();
    await settle();
    expect(s.heard).toEqual([4800]);
    expect(s.events[0]).toEqual({ type: 'speech_started', utterance_id: 1, at_ms: 1500 });
  });

  it('commits what is left when the stream closes', async () => {
    const s = stream();
    s.audio(16_000, 200);
    await s.live.close();
    expect(s.types()).toEqual(['speech_started', 'speech_stopped', 'transcription']);
    s.live.dispose();
  });
});
