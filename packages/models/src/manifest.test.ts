import { DEFAULT_MODEL_IDS, LANGUAGES, MANIFEST, ROLES, VOICE_BY_LANGUAGE, findModel } from './manifest.js';

describe('model manifest', () => {
  test('every entry has a role, https URLs, a positive size and a sha256 that is empty (pinned on first download) or 64 hex chars', () => {
    expect(MANIFEST.length).toBeGreaterThan(0);
    for (const e of MANIFEST) {
      expect(ROLES).toContain(e.role);
      expect(e.id).toMatch(/^[\w.-]+$/);
      expect(e.license).not.toBe('');
      expect(e.licenseUrl).toMatch(/^https:\/\//);
      expect(e.files.length).toBeGreaterThan(0);
      for (const f of e.files) {
        expect(new URL(f.url).protocol).toBe('https:');
        expect(f.name).toMatch(/^[\w.-]+$/);
        expect(f.size).toBeGreaterThan(0);
        expect(f.sha256).toMatch(/^(|[0-9a-f]{64})$/);
        expect(f.sha1 ?? 'absent').toMatch(/^([0-9a-f]{40}|absent)$/);
        // A pinned hash says where it was read from.
        expect(f.sha256 === '' || /^https:\/\//.test(f.hashSource ?? '')).toBe(true);
      }
    }
  });

  test('ids are unique and every role has default models that exist', () => {
    const ids = MANIFEST.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const role of ROLES) {
      expect(DEFAULT_MODEL_IDS[role].length).toBeGreaterThan(0);
      for (const id of DEFAULT_MODEL_IDS[role]) expect(findModel(id)?.role).toBe(role);
    }
  });

  test('ships Qwen2.5 0.5B/1.5B, Whisper base/small and Piper voices for en es fr de it pt', () => {
    expect(findModel('qwen2.5-0.5b-instruct-q4_k_m')?.role).toBe('llm');
    expect(findModel('qwen2.5-1.5b-instruct-q4_k_m')?.role).toBe('llm');
    expect(findModel('whisper-base')?.role).toBe('stt');
    expect(findModel('whisper-small')?.role).toBe('stt');
    for (const lang of ['en', 'es', 'fr', 'de', 'it', 'pt'] as const) {
      const choice = VOICE_BY_LANGUAGE[lang];
      expect(choice).toEqual({ kind: 'voice', voice: expect.any(String) });
      expect(DEFAULT_MODEL_IDS.tts).toContain((choice as { voice: string }).voice);
    }
  });

  test('Piper voices ship an .onnx and an .onnx.json and get the sherpa-onnx post-processing step', () => {
    for (const e of MANIFEST.filter((m) => m.role === 'tts')) {
      expect(e.files.map((f) => f.name).sort()).toEqual([`${e.id}.onnx`, `${e.id}.onnx.json`]);
      expect(e.postProcess).toBe('piper-sherpa');
      expect(e.files[0]!.url).toMatch(/^https:\/\/huggingface\.co\/rhasspy\/piper-voices\/resolve\//);
    }
  });

  test('every one of the 18 languages maps to a Piper voice in the manifest or to an explicit fallback', () => {
    expect(LANGUAGES).toHaveLength(18);
    expect(Object.keys(VOICE_BY_LANGUAGE).sort()).toEqual([...LANGUAGES].sort());
    for (const lang of LANGUAGES) {
      const choice = VOICE_BY_LANGUAGE[lang];
      if (choice.kind === 'voice') {
        const entry = findModel(choice.voice);
        expect(entry?.role).toBe('tts');
        expect(entry?.languages).toContain(lang);
      } else {
        expect(choice.strategy).toBe('text-only');
        expect(choice.reason).not.toBe('');
      }
    }
    const fallbacks = LANGUAGES.filter((l) => VOICE_BY_LANGUAGE[l].kind === 'fallback');
    expect(fallbacks).toEqual(['ja', 'ko', 'th']);
  });
});
