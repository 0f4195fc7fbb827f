import { ParleyError } from '@parley/contracts';
import type { VoiceInfo } from '../engine/tts-engine.port.js';
import { selectVoice } from './voice-selection.js';

const voices: VoiceInfo[] = [
  { id: 'en_US-lessac-medium', languages: ['en'], sampleRate: 22050, speakers: 1 },
  { id: 'es_ES-davefx-medium', languages: ['es'], sampleRate: 16000, speakers: 1 },
  { id: 'pt_BR-faber-medium', languages: ['pt-br'], sampleRate: 22050, speakers: 3 },
];
const pick = (request: { language: string; voice?: string; speaker_id?: number }, defaultVoice = 'en_US-lessac-medium') =>
  selectVoice(voices, defaultVoice, { speaker_id: 0, ...request }).id;

describe('selectVoice', () => {
  it("picks the language's voice", () => {
    expect(pick({ language: 'es' })).toBe('es_ES-davefx-medium');
    expect(pick({ language: 'EN' })).toBe('en_US-lessac-medium');
  });

  it('matches a regional code to the base language and back', () => {
    expect(pick({ language: 'es-MX' })).toBe('es_ES-davefx-medium');
    expect(pick({ language: 'pt' })).toBe('pt_BR-faber-medium');
  });

  it('falls back to the default voice for a language without one', () => {
    expect(pick({ language: 'fr' })).toBe('en_US-lessac-medium');
    expect(pick({ language: 'fr' }, 'es_ES-davefx-medium')).toBe('es_ES-davefx-medium');
  });

  it('uses a requested resident voice, whatever the language', () => {
    expect(pick({ language: 'en', voice: 'es_ES-davefx-medium' })).toBe('es_ES-davefx-medium');
  });

  it('refuses an unknown voice, listing the resident ones', () => {
    expect(() => pick({ language: 'en', voice: 'en_GB-alba-medium' })).toThrow(
      new ParleyError(
        'INVALID_REQUEST',
        "Invalid synthesize request: voice: unknown voice 'en_GB-alba-medium'; resident voices: en_US-lessac-medium, es_ES-davefx-medium, pt_BR-faber-medium",
      ),
    );
  });

  it("refuses a speaker id beyond the voice's speakers", () => {
    expect(pick({ language: 'pt', speaker_id: 2 })).toBe('pt_BR-faber-medium');
    expect(() => pick({ language: 'en', speaker_id: 1 })).toThrow(/speaker_id: 1 is out of range; voice en_US-lessac-medium has speaker ids 0-0/);
  });
});
