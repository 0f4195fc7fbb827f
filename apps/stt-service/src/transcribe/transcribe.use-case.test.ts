import { ParleyError } from '@parley/contracts';
import { ModelLifecycle, ServiceMetrics } from '@parley/service-kit';
import { TranscriptionScheduler } from '../scheduler/transcription-scheduler.js';
import { lastValueFrom } from 'rxjs';
import { encodeWav16 } from '../audio/index.js';
import type { AudioStore } from '../audio-store/audio-store.port.js';
import { loadConfig } from '../config.js';
import type { EngineTranscript, SttEngine } from '../engine/stt-engine.port.js';
import { TranscribeUseCase } from './transcribe.use-case.js';

/** A recogniser behind the port that hears whatever the test says it hears. */
class ScriptedRecogniser implements SttEngine {
  readonly modelName = 'scripted';
  readonly unavailableWorkers = 0;
  calls = 0;
  constructor(private readonly heard: string) {}
  async load(): Promise<void> {}
  onEvent(): void {}
  async transcribe(): Promise<EngineTranscript> {
    this.calls += 1;
    return { text: this.heard, language: 'en', languageProbability: 0.9, segments: [] };
  }
}

/** One object, served from memory. */
class MemoryAudioStore implements AudioStore {
  constructor(private readonly bytes: Uint8Array) {}
  async read(): Promise<Uint8Array> {
    return this.bytes;
  }
  async remove(): Promise<void> {}
}

/** One second of a loud 220 Hz tone: not silent, so only the recogniser can decide. */
function toneWav(): Uint8Array {
  const samples = new Float32Array(16_000).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * i) / 16_000));
  return encodeWav16(samples, 16_000);
}

async function transcribe(engine: SttEngine, wav: Uint8Array) {
  const metrics = new ServiceMetrics('stt');
  const lifecycle = new ModelLifecycle('stt', engine.modelName, metrics);
  await lifecycle.load(() => engine.load());
  const config = { ...loadConfig({ STT_MODEL_PATH: '/unused.bin' }), ffmpegPath: '/nonexistent/ffmpeg' };
  const useCase = new TranscribeUseCase(engine, new MemoryAudioStore(wav), lifecycle, new TranscriptionScheduler(1, 1, { maxWaitingPartials: 1 }), metrics, config);
  return lastValueFrom(useCase.transcribe({ request_id: 'abcdefgh', audio_object: 'objectname', language: 'en' }));
}

describe('TranscribeUseCase: deciding that there was no speech', () => {
  it('answers what the recogniser heard', async () => {
    await expect(transcribe(new ScriptedRecogniser('Hello there.'), toneWav())).resolves.toMatchObject({ text: 'Hello there.' });
  });

  it.each([
    ['nothing', ''],
    ["whisper's blank-audio marker", '[BLANK_AUDIO]'],
    ['only non-speech markers', '(music) [ Silence ]'],
    ['only punctuation', ' ... '],
  ])('answers NO_SPEECH when the recogniser heard %s', async (_what, heard) => {
    const failure = await transcribe(new ScriptedRecogniser(heard), toneWav()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ParleyError);
    expect(failure).toMatchObject({ code: 'NO_SPEECH', message: expect.stringMatching(/no speech/) });
  });

  it('answers NO_SPEECH for a silent recording without calling the recogniser', async () => {
    const engine = new ScriptedRecogniser('never asked');
    await expect(transcribe(engine, encodeWav16(new Float32Array(16_000), 16_000))).rejects.toMatchObject({ code: 'NO_SPEECH' });
    expect(engine.calls).toBe(0);
  });
});
