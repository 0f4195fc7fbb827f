import { ParleyError } from '@parley/contracts';

/** Containers recognised from their first bytes (never from a file name or a client's content type). */
export type AudioContainer = 'wav' | 'webm' | 'ogg' | 'mp3' | 'aac' | 'mp4' | 'flac';

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(start, start + length));

/**
 * Identifies the container from its magic bytes, or returns undefined.
 * - RIFF....WAVE (and RF64....WAVE) → wav
 * - 1A 45 DF A3 (EBML) → webm (WebM and Matroska)
 * - OggS → ogg (Opus, Vorbis, FLAC in Ogg)
 * - ID3 tag, or an MPEG audio frame sync (11 set bits, layer ≠ 0) → mp3
 * - an ADTS frame sync (12 set bits, layer 0) → aac
 * - ....ftyp → mp4 (m4a, mp4, 3gp, mov)
 * - fLaC → flac
 */
export function sniffContainer(bytes: Uint8Array): AudioContainer | undefined {
  if (
    bytes.length >= 12 &&
    (ascii(bytes, 0, 4) === 'RIFF' || ascii(bytes, 0, 4) === 'RF64') &&
    ascii(bytes, 8, 4) === 'WAVE'
  ) {
    return 'wav';
  }
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3)
    return 'webm';
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'OggS') return 'ogg';
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'fLaC') return 'flac';
  if (bytes.length >= 10 && ascii(bytes, 0, 3) === 'ID3' && bytes[3]! < 0xff && bytes[4]! < 0xff) return 'mp3';
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') return 'mp4';
  if (bytes.length >= 4 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0) {
    const version = (bytes[1]! >> 3) & 0b11; // 01 is reserved
    const layer = (bytes[1]! >> 1) & 0b11;
    if (layer === 0 && (bytes[1]! & 0xf0) === 0xf0) return 'aac'; // ADTS
    const bitrate = bytes[2]! >> 4;
    const rate = (bytes[2]! >> 2) & 0b11;
    if (version !== 0b01 && layer !== 0 && bitrate !== 0b1111 && rate !== 0b11) return 'mp3';
  }
  return undefined;
}

/** The container, or UNSUPPORTED_MEDIA saying what the bytes look like. Empty input is INVALID_REQUEST. */
export function detectContainer(bytes: Uint8Array): AudioContainer {
  if (bytes.length === 0) throw new ParleyError('INVALID_REQUEST', 'the audio file is empty (0 bytes)');
  const container = sniffContainer(bytes);
  if (container) return container;
  throw new ParleyError(
    'UNSUPPORTED_MEDIA',
    `not an audio file we can read: ${describeBytes(bytes)}; expected WAV, WebM/Matroska, Ogg, MP3, AAC, MP4/M4A or FLAC`,
  );
}

/** A short description of unknown bytes for error messages: hex of the head, plus a hint for text. */
export function describeBytes(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const sample = bytes.subarray(0, 64);
  const printable = sample.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f));
  return `${bytes.length} bytes starting with ${head}${printable ? ' (looks like text)' : ''}`;
}
