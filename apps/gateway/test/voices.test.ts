import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LANGUAGE_CODES, LANGUAGES } from '@parley/contracts';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { freePort, spawnService, startNatsServer, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { voicesByLanguage } from '../src/voices/voices.js';
import { getJson, startTestGateway, TTS_SERVICE_MAIN, type TestGateway } from './support.js';
import { waitForModel } from './system-support.js';

describe('voices by language', () => {
  it('lists the loaded voices of a language first, then the catalog voices not loaded', () => {
    const { voices } = voicesByLanguage([
      { id: 'es_MX-claude-high', languages: ['es'], sample_rate: 22050, speakers: 1 },
      { id: 'my-voice', languages: ['es', 'pt-BR'], sample_rate: 16000, speakers: 1 },
    ]);
    expect(voices.es).toEqual(['es_MX-claude-high', 'my-voice', 'es_ES-davefx-medium']);
    expect(voices.pt).toEqual(['my-voice', ...LANGUAGES.pt.tts_voices]);
    expect(voices.ja).toEqual([]);
    expect(Object.keys(voices)).toEqual(LANGUAGE_CODES);
  });
});

/** Issue 11: GET /api/conversation/voices (API.md), answered from the tts-service's resident voices. */
describe('GET /api/conversation/voices', () => {
  let nats: TestNatsServer;
  let dir: string;
  let tts: SpawnedService | undefined;
  let gateway: TestGateway;

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = await mkdtemp(join(tmpdir(), 'parley-voices-'));
    const spanish = await writeTinyPiperVoice(join(dir, 'es'));
    const brazilian = await writeTinyPiperVoice(join(dir, 'pt'));
    tts = spawnService('tts-service', TTS_SERVICE_MAIN, {
      NATS_URL: nats.url,
      TTS_HTTP_PORT: String(await freePort()),
      TTS_VOICES: JSON.stringify([
        { id: 'tiny-es', languages: ['es'], model: spanish.model, tokens: spanish.tokens },
        { id: 'tiny-pt-br', languages: ['pt-BR'], model: brazilian.model, tokens: brazilian.tokens },
      ]),
    });
    gateway = await startTestGateway(nats.url);
    await waitForModel(gateway.url, 'tts', [tts]);
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await tts?.stop();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every catalog language with its voices, the loaded ones first', async () => {
    const { status, body } = await getJson(`${gateway.url}/api/conversation/voices`);
    expect(status).toBe(200);
    expect(Object.keys(body.voices)).toEqual(LANGUAGE_CODES);
    expect(body.voices.es).toEqual(['tiny-es', ...LANGUAGES.es.tts_voices]);
    expect(body.voices.pt).toEqual(['tiny-pt-br', ...LANGUAGES.pt.tts_voices]);
    expect(body.voices.fr).toEqual(LANGUAGES.fr.tts_voices);
    expect(body.voices.ko).toEqual([]);
  });

  it('answers the catalog voices alone when the tts-service is down', async () => {
    await tts!.stop();
    tts = undefined;
    const { status, body } = await getJson(`${gateway.url}/api/conversation/voices`);
    expect(status).toBe(200);
    expect(body.voices.es).toEqual(LANGUAGES.es.tts_voices);
  });
});
