import { loadConfig, parseVoices } from './config.js';

const VOICES = JSON.stringify([
  { id: 'en_US-lessac-medium', languages: ['en'], model: '/m/en.onnx', tokens: '/m/en.txt' },
  { id: 'es_ES-davefx-medium', languages: ['ES', 'es-MX'], model: '/m/es.onnx', tokens: '/m/es.txt', speakers: 2 },
]);

describe('loadConfig', () => {
  it('reads the voices and applies the defaults', () => {
    const config = loadConfig({ TTS_VOICES: VOICES, ESPEAK_NG_DATA: '/data/espeak' });
    expect(config.engine.voices).toEqual([
      { id: 'en_US-lessac-medium', languages: ['en'], model: '/m/en.onnx', tokens: '/m/en.txt' },
      { id: 'es_ES-davefx-medium', languages: ['es', 'es-mx'], model: '/m/es.onnx', tokens: '/m/es.txt', speakers: 2 },
    ]);
    expect(config.engine.defaultVoice).toBe('en_US-lessac-medium');
    expect(config.engine.espeakNgData).toBe('/data/espeak');
    expect(config.engine.threads).toBeGreaterThanOrEqual(1);
    expect(config).toEqual(
      expect.objectContaining({ maxConcurrent: 2, maxQueued: 16, generationTimeoutMs: 30_000, maxRequestMs: 120_000, httpPort: 9103 }),
    );
  });

  it('takes the default voice, limits and ports from the environment', () => {
    const config = loadConfig({
      TTS_VOICES: VOICES,
      TTS_DEFAULT_VOICE: 'es_ES-davefx-medium',
      TTS_THREADS: '3',
      TTS_MAX_CONCURRENT: '4',
      TTS_MAX_QUEUED: '0',
      TTS_GENERATION_TIMEOUT_MS: '90000',
      TTS_HTTP_PORT: '0',
    });
    expect(config.engine.defaultVoice).toBe('es_ES-davefx-medium');
    expect(config.engine.threads).toBe(3);
    expect(config).toEqual(expect.objectContaining({ maxConcurrent: 4, maxQueued: 0, generationTimeoutMs: 90_000, maxRequestMs: 180_000, httpPort: 0 }));
  });

  it('refuses a default voice that is not configured', () => {
    expect(() => loadConfig({ TTS_VOICES: VOICES, TTS_DEFAULT_VOICE: 'fr_FR-siwis-medium' })).toThrow(
      /TTS_DEFAULT_VOICE=fr_FR-siwis-medium is not one of .*en_US-lessac-medium, es_ES-davefx-medium/,
    );
  });

  it('refuses a bad number', () => {
    expect(() => loadConfig({ TTS_VOICES: VOICES, TTS_MAX_CONCURRENT: 'two' })).toThrow(/TTS_MAX_CONCURRENT=two must be an integer/);
  });
});

describe('parseVoices', () => {
  it.each([
    [undefined, /TTS_VOICES is not set/],
    ['', /TTS_VOICES is not set/],
    ['{"id":', /not valid JSON/],
    ['[]', /non-empty JSON array/],
    ['[1]', /TTS_VOICES\[0\] must be an object/],
    ['[{"languages":["en"],"model":"m","tokens":"t"}]', /TTS_VOICES\[0\]\.id must be a non-empty string/],
    ['[{"id":"a b","languages":["en"],"model":"m","tokens":"t"}]', /TTS_VOICES\[0\]\.id must be/],
    ['[{"id":"a","languages":"en","model":"m","tokens":"t"}]', /TTS_VOICES\[0\]\.languages must be an array/],
    ['[{"id":"a","languages":["english!"],"model":"m","tokens":"t"}]', /languages must be an array of language codes/],
    ['[{"id":"a","languages":["en"],"tokens":"t"}]', /TTS_VOICES\[0\]\.model must be a non-empty string/],
    ['[{"id":"a","languages":["en"],"model":"m"}]', /TTS_VOICES\[0\]\.tokens must be a non-empty string/],
    ['[{"id":"a","languages":["en"],"model":"m","tokens":"t","speakers":0}]', /speakers must be a positive integer/],
    ['[{"id":"a","languages":["en"],"model":"m","tokens":"t"},{"id":"a","languages":["es"],"model":"m","tokens":"t"}]', /TTS_VOICES\[1\]\.id a appears twice/],
  ])('refuses %j with a message that says what to fix', (raw, message) => {
    expect(() => parseVoices(raw)).toThrow(message);
  });
});
