import { ParleyError } from '@parley/contracts';

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

export interface WavInfo {
  /** 1 = integer PCM, 3 = IEEE float (after resolving WAVE_FORMAT_EXTENSIBLE). Other codes are compressed. */
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  /** Where the sample data starts and how many bytes of it there are (whole frames only). */
  dataOffset: number;
  dataBytes: number;
  frames: number;
  durationSeconds: number;
}

export interface DecodedPcm {
  /** Mono samples in [-1, 1]. */
  samples: Float32Array;
  sampleRate: number;
}

const invalid = (message: string) => new ParleyError('INVALID_REQUEST', `invalid WAV file: ${message}`);

/**
 * Sizes that streaming writers put in the header when they cannot seek back (espeak-ng --stdout,
 * ffmpeg to a pipe, browsers' recorders): "as much as follows", not a truncation.
 */
function isPlaceholderSize(size: number): boolean {
  return size === 0 || size >= 0x7fff0000;
}

/** Reads the RIFF/WAVE header (fmt and data chunks). Throws INVALID_REQUEST on a broken file. */
export function parseWavHeader(bytes: Uint8Array): WavInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw invalid('no RIFF/WAVE header');

  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'frames' | 'durationSeconds'> | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw invalid(`the fmt chunk is ${size} bytes (at least 16 expected)`);
      let format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > bytes.length) throw invalid('WAVE_FORMAT_EXTENSIBLE without its 40-byte fmt chunk');
        // The sub-format GUID starts with the format code (…-0000-0010-8000-00aa00389b71).
        format = view.getUint16(body + 24, true);
      }
      if (channels < 1) throw invalid('0 channels');
      if (sampleRate < 1000 || sampleRate > 384_000) throw invalid(`unusable sample rate ${sampleRate} Hz`);
      fmt = { format, channels, sampleRate, bitsPerSample, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw invalid('the data chunk comes before the fmt chunk');
      const available = bytes.length - body;
      let dataBytes = size;
      if (size > available) {
        if (!isPlaceholderSize(size)) {
          throw invalid(`truncated: the header announces ${size} bytes of audio but only ${available} follow`);
        }
        dataBytes = available;
      }
      if (fmt.format === FORMAT_PCM || fmt.format === FORMAT_FLOAT) {
        const expectedAlign = (fmt.channels * fmt.bitsPerSample) / 8;
        if (fmt.blockAlign !== expectedAlign) {
          throw invalid(`block align ${fmt.blockAlign} does not match ${fmt.channels} channels of ${fmt.bitsPerSample} bits`);
        }
      }
      const frames = fmt.blockAlign > 0 ? Math.floor(dataBytes / fmt.blockAlign) : 0;
      return {
        ...fmt,
        dataOffset: body,
        dataBytes: frames * fmt.blockAlign,
        frames,
        durationSeconds: frames / fmt.sampleRate,
      };
    }
    // Chunks are padded to an even size.
    offset = body + size + (size % 2);
  }
  throw invalid(fmt ? 'no data chunk (the file may be truncated)' : 'no fmt chunk (the file may be truncated)');
}

/** Whether this module can decode the WAV's codec itself (integer or float PCM). */
export function isPcmWav(info: WavInfo): boolean {
  if (info.format === FORMAT_PCM) return [8, 16, 24, 32].includes(info.bitsPerSample);
  if (info.format === FORMAT_FLOAT) return info.bitsPerSample === 32 || info.bitsPerSample === 64;
  return false;
}

/**
 * Decodes integer (8-bit unsigned, 16/24/32-bit signed) or float (32/64-bit) PCM to mono float
 * samples at the file's own rate, averaging the channels.
 */
export function decodeWavPcm(bytes: Uint8Array, info: WavInfo = parseWavHeader(bytes)): DecodedPcm {
  if (!isPcmWav(info)) {
    throw new ParleyError(
      'UNSUPPORTED_MEDIA',
      `WAV codec 0x${info.format.toString(16).padStart(4, '0')} with ${info.bitsPerSample}-bit samples is not PCM`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + info.dataOffset, info.dataBytes);
  const { channels, frames, bitsPerSample, format } = info;
  const bytesPerSample = bitsPerSample / 8;
  const read = sampleReader(view, format, bitsPerSample);
  const samples = new Float32Array(frames);
  const scale = 1 / channels;
  for (let frame = 0, offset = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++, offset += bytesPerSample) sum += read(offset);
    const value = sum * scale;
    // NaN/Inf in float files would poison the resampler and whisper.
    samples[frame] = Number.isFinite(value) ? Math.max(-1, Math.min(1, value)) : 0;
  }
  return { samples, sampleRate: info.sampleRate };
}

function sampleReader(view: DataView, format: number, bits: number): (offset: number) => number {
  if (format === FORMAT_FLOAT) {
    return bits === 32 ? (o) => view.getFloat32(o, true) : (o) => view.getFloat64(o, true);
  }
  switch (bits) {
    case 8:
      return (o) => (view.getUint8(o) - 128) / 128;
    case 16:
      return (o) => view.getInt16(o, true) / 32768;
    case 24:
      return (o) => {
        const value = view.getUint8(o) | (view.getUint8(o + 1) << 8) | (view.getInt8(o + 2) << 16);
        return value / 8388608;
      };
    default:
      return (o) => view.getInt32(o, true) / 2147483648;
  }
}

/** A 16-bit PCM mono WAV file (what whisper-server reads natively). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const dataBytes = samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const writeTag = (offset: number, text: string) => {
    for (let i = 0; i < 4; i++) out[offset + i] = text.charCodeAt(i);
  };
  writeTag(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  writeTag(8, 'WAVE');
  writeTag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  writeTag(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0, offset = 44; i < samples.length; i++, offset += 2) {
    const clamped = Math.max(-1, Math.min(1, samples[i]!));
    view.setInt16(offset, Math.round(clamped < 0 ? clamped * 32768 : clamped * 32767), true);
  }
  return out;
}

/** Signed 16-bit little-endian PCM (ffmpeg's s16le output) to float samples. */
export function s16leToFloat(bytes: Uint8Array): Float32Array {
  const count = Math.floor(bytes.length / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}
