/**
 * Audio helpers for the synthesis stream: the engine produces float samples in [-1, 1]; the
 * stream carries 16-bit little-endian mono PCM (what the gateway wraps in a WAV header).
 */

/** Converts float samples to 16-bit little-endian PCM bytes, clamping to [-1, 1] (NaN becomes silence). */
export function floatToPcm16(samples: Float32Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const clamped = s > 1 ? 1 : s < -1 ? -1 : s === s ? s : 0;
    view.setInt16(i * 2, Math.round(clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff), true);
  }
  return bytes;
}

/**
 * Splits PCM bytes into pieces of at most `maxBytes` (rounded down to whole samples), so that no
 * message exceeds the broker's payload limit (NATS: 1 MB by default) however long a sentence is.
 */
export function splitPcm(pcm: Uint8Array<ArrayBuffer>, maxBytes: number): Uint8Array<ArrayBuffer>[] {
  const step = Math.max(2, maxBytes - (maxBytes % 2));
  if (pcm.byteLength <= step) return pcm.byteLength ? [pcm] : [];
  const pieces: Uint8Array<ArrayBuffer>[] = [];
  for (let at = 0; at < pcm.byteLength; at += step) pieces.push(pcm.subarray(at, Math.min(at + step, pcm.byteLength)));
  return pieces;
}
