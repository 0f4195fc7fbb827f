// The default real models per role, with where every integrity hash came from.
//
// Rule: a `sha256` here is copied from the publisher's own listing (Hugging Face shows the
// Git-LFS SHA256 of every large file on its page; `hashSource` links it). Where no published
// hash could be found, `sha256` is '' and `models pull` pins the hash of the first download in
// `<modelsDir>/models.lock.json` (trust on first use), says so on stderr, and rejects any later
// download that differs. See docs/models.md.

import { LANGUAGE_CODES, LANGUAGES as CATALOG, type LanguageCode } from '@parley/contracts';

export type Role = 'llm' | 'stt' | 'tts';
export const ROLES: readonly Role[] = ['llm', 'stt', 'tts'];

/** The 18 tutoring languages: the contracts catalog is the one list. */
export const LANGUAGES: readonly LanguageCode[] = LANGUAGE_CODES;
export type Language = LanguageCode;

export interface ModelFile {
  /** File name on disk, under `<modelsDir>/<role>/<id>/`. */
  name: string;
  url: string;
  /** Size in bytes. Exact when `sizeExact`, otherwise the publisher's rounded figure (progress only). */
  size: number;
  sizeExact: boolean;
  /** Lower-case hex SHA-256, or '' = pinned on first download (see models.lock.json). */
  sha256: string;
  /** Extra SHA-1 the publisher lists (whisper.cpp's models/README.md); checked too when set. */
  sha1?: string;
  /** Where `sha256` (and `sha1`) were read. */
  hashSource?: string;
}

export interface ModelEntry {
  id: string;
  role: Role;
  description: string;
  /** Languages the model serves; 'multilingual' for the LLM and Whisper. */
  languages: readonly Language[] | 'multilingual';
  license: string;
  licenseUrl: string;
  files: readonly ModelFile[];
  /** Step run after every file is verified: Piper voices get tokens.txt + a sherpa-onnx model. */
  postProcess?: 'piper-sherpa';
}

const MB = 1_000_000;

// ---------------------------------------------------------------------------------------------
// LLM: Qwen2.5 instruct GGUF, from Qwen's own GGUF repos. The Qwen/* pages were not reachable from
// here, and hashes of same-named files in third-party re-uploads are NOT the publisher's (they are
// separate quantisations), so both are pinned on first download.
const qwen = (size: '0.5B' | '1.5B', approxBytes: number): ModelEntry => {
  const file = `qwen2.5-${size.toLowerCase()}-instruct-q4_k_m.gguf`;
  return {
    id: `qwen2.5-${size.toLowerCase()}-instruct-q4_k_m`,
    role: 'llm',
    description: `Qwen2.5-${size}-Instruct, GGUF Q4_K_M (llama.cpp / node-llama-cpp)`,
    languages: 'multilingual',
    license: 'Apache-2.0',
    licenseUrl: `https://huggingface.co/Qwen/Qwen2.5-${size}-Instruct-GGUF/blob/main/LICENSE`,
    files: [
      {
        name: file,
        url: `https://huggingface.co/Qwen/Qwen2.5-${size}-Instruct-GGUF/resolve/main/${file}`,
        size: approxBytes,
        sizeExact: false,
        sha256: '',
      },
    ],
  };
};

// ---------------------------------------------------------------------------------------------
// STT: multilingual whisper.cpp ggml models from ggerganov/whisper.cpp on Hugging Face.
const WHISPER_REPO = 'https://huggingface.co/ggerganov/whisper.cpp';
const WHISPER_SHA1_SOURCE = 'https://github.com/ggerganov/whisper.cpp/blob/master/models/README.md';

const whisperBase: ModelEntry = {
  id: 'whisper-base',
  role: 'stt',
  description: 'Whisper base (multilingual), whisper.cpp ggml',
  languages: 'multilingual',
  license: 'MIT',
  licenseUrl: `${WHISPER_REPO}/blob/main/README.md`,
  files: [
    {
      name: 'ggml-base.bin',
      url: `${WHISPER_REPO}/resolve/main/ggml-base.bin`,
      // Exact: the LFS pointer (oid sha256:60ed5bc3…, size 147951465) of the same object.
      size: 147_951_465,
      sizeExact: true,
      sha256: '60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe',
      sha1: '465707469ff3a37a2b9b8d8f89f2f99de7299dac',
      hashSource: `${WHISPER_REPO}/blob/98aa99a0a9db05ae2342309f5096248665f7cba3/ggml-base.bin (SHA-1: ${WHISPER_SHA1_SOURCE})`,
    },
  ],
};

const whisperSmall: ModelEntry = {
  id: 'whisper-small',
  role: 'stt',
  description: 'Whisper small (multilingual), whisper.cpp ggml; better accuracy, ~3x slower than base',
  languages: 'multilingual',
  license: 'MIT',
  licenseUrl: `${WHISPER_REPO}/blob/main/README.md`,
  files: [
    {
      name: 'ggml-small.bin',
      url: `${WHISPER_REPO}/resolve/main/ggml-small.bin`,
      size: 488 * MB,
      sizeExact: false,
      // LFS SHA256 of ggerganov's commit 80da2d8 ("Migrate from HG dataset into HG model"), read on
      // the page of a byte-for-byte duplicate of the repo (same commit, same LFS object); the
      // SHA-1 from ggerganov's own README is verified as well, so a wrong sha256 here could only
      // ever cause a loud rejection, never an accepted bad file.
      sha256: '1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b',
      sha1: '55356645c2b361a969dfd0ef2c5a50d530afd8d5',
      hashSource: `https://huggingface.co/macoron/whisper.cpp/blob/main/ggml-small.bin (mirror of ${WHISPER_REPO} commit 80da2d8; SHA-1: ${WHISPER_SHA1_SOURCE})`,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// TTS: Piper voices from rhasspy/piper-voices (.onnx + .onnx.json). sherpa-onnx needs two more
// things the Piper release does not ship: tokens.txt (generated from the .onnx.json
// phoneme_id_map) and sherpa's metadata inside the ONNX model (written to a sibling
// `<voice>.sherpa.onnx`, the verified original is kept untouched). See src/piper.ts.
//
// `rev` pins the repository revision: 'v1.0.0' (the tag Piper's own VOICES.md links to) for
// voices of the original v1.0 release, 'main' for voices added afterwards.
const PIPER = 'https://huggingface.co/rhasspy/piper-voices';

interface VoiceSpec {
  voice: string; // e.g. en_US-lessac-medium
  lang: Language;
  rev: 'v1.0.0' | 'main';
  approxMb: number;
  sha256?: string;
  /** Revision path of the Hugging Face page the sha256 was read from. */
  hashPage?: string;
  license: string;
}

function piperVoice(v: VoiceSpec): ModelEntry {
  const [locale, speaker, quality] = v.voice.split('-') as [string, string, string];
  const family = locale.split('_')[0];
  const dir = `${family}/${locale}/${speaker}/${quality}`;
  return {
    id: v.voice,
    role: 'tts',
    description: `Piper voice ${speaker} (${locale}, ${quality})`,
    languages: [v.lang],
    license: v.license,
    licenseUrl: `${PIPER}/blob/main/${dir}/MODEL_CARD`,
    postProcess: 'piper-sherpa',
    files: [
      {
        name: `${v.voice}.onnx`,
        url: `${PIPER}/resolve/${v.rev}/${dir}/${v.voice}.onnx`,
        size: Math.round(v.approxMb * MB),
        sizeExact: false,
        sha256: v.sha256 ?? '',
        ...(v.sha256 ? { hashSource: `${PIPER}/blob/${v.hashPage}/${dir}/${v.voice}.onnx` } : {}),
      },
      {
        // Small JSON files are plain git blobs: Hugging Face lists no SHA256 for them → pinned.
        name: `${v.voice}.onnx.json`,
        url: `${PIPER}/resolve/${v.rev}/${dir}/${v.voice}.onnx.json`,
        size: 7_000,
        sizeExact: false,
        sha256: '',
      },
    ],
  };
}

// The repository is MIT; each voice's training-data licence is stated in its MODEL_CARD (linked
// as licenseUrl) and must be checked before redistributing a voice.
const PIPER_LICENSE = 'MIT (rhasspy/piper-voices); dataset licence: see MODEL_CARD';
const VOICES: VoiceSpec[] = [
  { voice: 'en_US-lessac-medium', lang: 'en', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE, sha256: '5efe09e69902187827af646e1a6e9d269dee769f9877d17b16b1b46eeaaf019f', hashPage: 'main' },
  { voice: 'es_ES-davefx-medium', lang: 'es', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE, sha256: '6658b03b1a6c316ee4c265a9896abc1393353c2d9e1bca7d66c2c442e222a917', hashPage: '2083514c726ed4e54d15dbf8d86285d6059642f0' },
  { voice: 'fr_FR-siwis-medium', lang: 'fr', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE, sha256: '641d1ab097da2b81128c076810edb052b385decc8be3381814802a64a73baf99', hashPage: 'refs%2Fpr%2F16' },
  { voice: 'de_DE-thorsten-medium', lang: 'de', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE, sha256: '7e64762d8e5118bb578f2eea6207e1a35a8e0c30595010b666f983fc87bb7819', hashPage: 'fd57cf932303f5c063c1758535a93e8651fb1aa3' },
  { voice: 'it_IT-paola-medium', lang: 'it', rev: 'main', approxMb: 63.5, license: PIPER_LICENSE, sha256: '6fc918b5a0ea6137382833dddfa567bffbe6a5060c02043c87192ee59c04210c', hashPage: '3f71c558aea760af723ae1c111c62f265892b59f' },
  { voice: 'pt_BR-faber-medium', lang: 'pt', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE, sha256: '858555e3a064209c57088fe6bd70c4c3dc54d03eaa00c45d5ecaf43a33f95aa7', hashPage: 'refs%2Fpr%2F19' },
  { voice: 'ru_RU-irina-medium', lang: 'ru', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE, sha256: '8ff38212d23da300bbe3705c645e6e5b9475f0bfde01558eb17813e22acaaaaa', hashPage: 'refs%2Fpr%2F19' },
  { voice: 'tr_TR-dfki-medium', lang: 'tr', rev: 'main', approxMb: 63.2, license: PIPER_LICENSE, sha256: '2844717f524ab965d3fe86e60562cbb601d3e456836efcc2196cc3a14112a8fb', hashPage: 'refs%2Fpr%2F5' },
  // No publisher-listed hash found here for these: pinned on first download.
  { voice: 'zh_CN-huayan-medium', lang: 'zh', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE },
  { voice: 'ar_JO-kareem-medium', lang: 'ar', rev: 'main', approxMb: 63.2, license: PIPER_LICENSE },
  { voice: 'nl_NL-mls-medium', lang: 'nl', rev: 'v1.0.0', approxMb: 76.6, license: PIPER_LICENSE },
  { voice: 'vi_VN-vais1000-medium', lang: 'vi', rev: 'v1.0.0', approxMb: 63.2, license: PIPER_LICENSE },
  { voice: 'el_GR-rapunzelina-low', lang: 'el', rev: 'v1.0.0', approxMb: 63.1, license: PIPER_LICENSE },
  { voice: 'pl_PL-gosia-medium', lang: 'pl', rev: 'main', approxMb: 63.2, license: PIPER_LICENSE },
  { voice: 'hi_IN-pratham-medium', lang: 'hi', rev: 'main', approxMb: 63.2, license: PIPER_LICENSE },
];

export const MANIFEST: readonly ModelEntry[] = [
  qwen('0.5B', 491 * MB),
  qwen('1.5B', 1_120 * MB),
  whisperBase,
  whisperSmall,
  ...VOICES.map(piperVoice),
];

/** What `models pull` fetches with no argument: one LLM, one STT model, and the core voices. */
export const DEFAULT_MODEL_IDS: Record<Role, readonly string[]> = {
  llm: ['qwen2.5-0.5b-instruct-q4_k_m'],
  stt: ['whisper-base'],
  tts: ['en_US-lessac-medium', 'es_ES-davefx-medium', 'fr_FR-siwis-medium', 'de_DE-thorsten-medium', 'it_IT-paola-medium', 'pt_BR-faber-medium'],
};

/** The default single model of a role (what `models path <role>` resolves). */
export function defaultModelId(role: Role): string {
  return DEFAULT_MODEL_IDS[role][0]!;
}

export type VoiceChoice =
  | { kind: 'voice'; voice: string }
  | { kind: 'fallback'; strategy: 'text-only'; reason: string };

/**
 * Which Piper voice speaks each tutoring language. Piper has no voice for Japanese, Korean or
 * Thai: those replies are shown as text only (no TTS) until another engine is added.
 */
export const VOICE_BY_LANGUAGE: Record<Language, VoiceChoice> = Object.fromEntries(
  LANGUAGE_CODES.map((language): [Language, VoiceChoice] => {
    const voice = CATALOG[language].tts_voices[0];
    return [
      language,
      voice
        ? { kind: 'voice', voice }
        : { kind: 'fallback', strategy: 'text-only', reason: `rhasspy/piper-voices has no ${CATALOG[language].name} voice` },
    ];
  }),
) as Record<Language, VoiceChoice>;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function findModel(id: string): ModelEntry | undefined {
  return MANIFEST.find((m) => m.id === id);
}

export function modelsForRole(role: Role): ModelEntry[] {
  return MANIFEST.filter((m) => m.role === role);
}

/** Entry total size in bytes (approximate unless every file's size is exact). */
export function entrySize(entry: ModelEntry): number {
  return entry.files.reduce((n, f) => n + f.size, 0);
}
