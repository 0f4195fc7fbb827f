/**
 * The recent audio of one live stream, addressed by sample index since the stream began: what
 * partial and final transcriptions read. Old audio is discarded once no utterance can need it.
 */
export class SampleHistory {
  private buffer = new Float32Array(16_000 * 4);
  /** Stream index of buffer[0]. */
  private base = 0;
  private length = 0;

  /** Index one past the last sample received. */
  get end(): number {
    return this.base + this.length;
  }

  append(samples: Float32Array): void {
    if (this.length + samples.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(this.buffer.length * 2, this.length + samples.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(samples, this.length);
    this.length += samples.length;
  }

  /** A copy of [from, to), clipped to what is still held. */
  slice(from: number, to: number): Float32Array {
    const start = Math.max(0, from - this.base);
    const stop = Math.min(this.length, Math.max(start, to - this.base));
    return this.buffer.slice(start, stop);
  }

  /** Forgets everything before `index`. */
  discardBefore(index: number): void {
    const drop = Math.min(this.length, index - this.base);
    if (drop <= 0) return;
    this.buffer.copyWithin(0, drop, this.length);
    this.length -= drop;
    this.base += drop;
  }
}

/** PCM 16-bit little-endian bytes → samples in [-1, 1). */
export function pcm16ToFloat32(pcm: Uint8Array): Float32Array {
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const samples = new Float32Array(pcm.byteLength >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
  return samples;
}

/**
 * The last voiced sample of an utterance. The detector ends a segment a little after the voice
 * stops (the model reacts within a window or two); the end is moved back to the last 10 ms whose
 * loudness is within `rangeDb` of the utterance's loudest 10 ms, never further than `maxTrim`.
 * With a noisy microphone nothing is quiet enough and the detector's end stands.
 */
export function lastVoicedSample(samples: Float32Array, options: { rangeDb: number; maxTrim: number; window: number }): number {
  const { window } = options;
  const windows = Math.floor(samples.length / window);
  if (windows === 0) return samples.length;
  const energy = (w: number) => {
    let sum = 0;
    for (let i = w * window; i < (w + 1) * window; i++) sum += samples[i]! * samples[i]!;
    return sum / window;
  };
  let peak = 0;
  for (let w = 0; w < windows; w++) peak = Math.max(peak, energy(w));
  if (peak === 0) return samples.length;
  const floor = peak * 10 ** (-options.rangeDb / 10);
  const earliest = Math.max(0, samples.length - options.maxTrim);
  for (let w = windows - 1; w >= 0; w--) {
    const windowEnd = (w + 1) * window;
    if (windowEnd <= earliest) return earliest;
    if (energy(w) >= floor) return w === windows - 1 ? samples.length : windowEnd;
  }
  return samples.length;
}
