// Post-download step for Piper voices, so sherpa-onnx can load them.
//
// Why not sherpa-onnx's converted `vits-piper-*` tarballs (k2-fsa/sherpa-onnx releases)?
// They bundle the same Piper model plus tokens.txt and a copy of espeak-ng-data, but they are
// .tar.bz2 archives (no bzip2 in Node's standard library), ~2x larger, and hashed by nobody we
// could cite. Instead we download the publisher's files (rhasspy/piper-voices, whose .onnx
// hashes Hugging Face lists) and derive what sherpa-onnx needs:
//
//  1. tokens.txt: one `symbol id` line per entry of the .onnx.json `phoneme_id_map` (first id of
//     each entry), exactly what sherpa-onnx's own Piper conversion writes.
//  2. `<voice>.sherpa.onnx`: the verified .onnx with sherpa-onnx's metadata appended
//     (ModelProto.metadata_props, field 14: comment=piper, sample_rate, n_speakers, language,
//     voice = espeak voice, ...). sherpa-onnx refuses a VITS model without `sample_rate`,
//     `n_speakers`, `language` and `comment`. Protobuf merges repeated fields appended at the end
//     of a message, so this is a byte append; the original file stays untouched and verifiable.
//
// Phonemisation still needs an espeak-ng-data directory at run time (sherpa-onnx `dataDir`);
// see ESPEAK_NG_DATA_CANDIDATES in fixtures/piper.ts and docs/models.md.

import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

export interface PiperConfig {
  audio?: { sample_rate?: number };
  espeak?: { voice?: string };
  language?: { code?: string; name_english?: string; family?: string };
  num_speakers?: number;
  phoneme_id_map?: Record<string, number[]>;
  phoneme_type?: string;
}

/** tokens.txt content for sherpa-onnx from a Piper `phoneme_id_map`. */
export function phonemeIdMapToTokens(map: Record<string, number[] | number>): string {
  const lines: string[] = [];
  for (const [symbol, ids] of Object.entries(map)) {
    const id = Array.isArray(ids) ? ids[0] : ids;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new Error(`phoneme_id_map entry ${JSON.stringify(symbol)} has no valid id`);
    }
    if (/[\r\n]/.test(symbol)) {
      throw new Error(`phoneme_id_map symbol ${JSON.stringify(symbol)} contains a line break`);
    }
    lines.push(`${symbol} ${id}`);
  }
  if (lines.length === 0) throw new Error('phoneme_id_map is empty');
  return `${lines.join('\n')}\n`;
}

/** sherpa-onnx's metadata for a Piper voice, from its .onnx.json. */
export function sherpaMetadata(config: PiperConfig): Record<string, string> {
  const sampleRate = config.audio?.sample_rate;
  if (!sampleRate) throw new Error('Piper config has no audio.sample_rate');
  return {
    model_type: 'vits',
    comment: 'piper',
    language: config.language?.name_english ?? config.language?.code ?? 'unknown',
    voice: config.espeak?.voice ?? config.language?.code ?? 'en-us',
    has_espeak: '1',
    n_speakers: String(config.num_speakers ?? 1),
    sample_rate: String(sampleRate),
  };
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

/** Encoded ModelProto.metadata_props entries (StringStringEntryProto{key=1, value=2}). */
export function encodeMetadataProps(meta: Record<string, string>): Buffer {
  return Buffer.concat(
    Object.entries(meta).map(([k, v]) =>
      lengthDelimited(14, Buffer.concat([lengthDelimited(1, Buffer.from(k, 'utf8')), lengthDelimited(2, Buffer.from(v, 'utf8'))])),
    ),
  );
}

export interface PiperSherpaFiles {
  tokens: string;
  model: string;
  sampleRate: number;
}

/** Write tokens.txt and the sherpa-ready model next to a verified Piper voice. */
export async function preparePiperForSherpa(opts: {
  onnx: string;
  config: string;
  tokensOut: string;
  modelOut: string;
}): Promise<PiperSherpaFiles> {
  let config: PiperConfig;
  try {
    config = JSON.parse(await readFile(opts.config, 'utf8')) as PiperConfig;
  } catch (err) {
    throw new Error(`cannot read Piper config ${opts.config}: ${(err as Error).message}`, { cause: err });
  }
  if (!config.phoneme_id_map) throw new Error(`${opts.config} has no phoneme_id_map`);
  const meta = sherpaMetadata(config);

  await writeFile(`${opts.tokensOut}.tmp`, phonemeIdMapToTokens(config.phoneme_id_map));
  await rename(`${opts.tokensOut}.tmp`, opts.tokensOut);

  const tmp = `${opts.modelOut}.tmp`;
  try {
    const out = createWriteStream(tmp);
    await pipeline(createReadStream(opts.onnx), out, { end: false });
    await new Promise<void>((res, rej) => out.end(encodeMetadataProps(meta), (err?: Error | null) => (err ? rej(err) : res())));
    await rename(tmp, opts.modelOut);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { tokens: opts.tokensOut, model: opts.modelOut, sampleRate: Number(meta.sample_rate) };
}
