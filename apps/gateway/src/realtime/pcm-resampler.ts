/**
 * Streaming band-limited resampling of PCM16 mono (windowed sinc, Blackman window), for audio
 * that arrives in small chunks: chunk boundaries leave no seams, because each output sample is
 * computed once all the input it depends on has arrived. Going down (24 → 16 kHz) the cut-off
 * falls to the new Nyquist frequency, so nothing above 8 kHz aliases into what the VAD and
 * whisper hear; going up (a voice's 16/22.05 kHz → 24 kHz) it removes the images.
 */
const ZERO_CROSSINGS = 8;

export class PcmResampler {
  /** Input samples per output sample. */
  private readonly step: number;
  /** Fraction of the input's Nyquist frequency kept. */
  private readonly cutoff: number;
  /** Kernel half-width, in input samples. */
  private readonly halfWidth: number;
  /** Input not yet consumed; `base` is the stream index of pending[0]. */
  private pending = new Float32Array(0);
  private base = 0;
  /** Stream index (in input samples, fractional) of the next output sample. */
  private position = 0;
  private received = 0;
  /** Kernel weights by the output sample's fractional position (a rational ratio repeats a few phases). */
  private readonly weights = new Map<number, Float64Array>();

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    if (!(fromRate > 0) || !(toRate > 0)) throw new Error(`bad sample rates ${fromRate} → ${toRate}`);
    this.step = fromRate / toRate;
    this.cutoff = Math.min(1, toRate / fromRate);
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / this.cutoff);
  }

  /** Resamples the next chunk; returns the output samples it completes (some are held for the next). */
  push(pcm: Int16Array): Int16Array {
    if (this.fromRate === this.toRate) return pcm;
    const joined = new Float32Array(this.pending.length + pcm.length);
    joined.set(this.pending);
    for (let i = 0; i < pcm.length; i++) joined[this.pending.length + i] = pcm[i]! / 32768;
    this.pending = joined;
    this.received += pcm.length;
    return this.produce(this.received - this.halfWidth);
  }

  /** End of the stream: the held output, computed with silence after the last sample. */
  flush(): Int16Array {
    if (this.fromRate === this.toRate) return new Int16Array(0);
    const end = this.received;
    const padded = new Float32Array(this.pending.length + this.halfWidth + 1);
    padded.set(this.pending);
    this.pending = padded;
    return this.produce(end - 1e-9);
  }

  /** Output samples whose position is at most `until` (input index). */
  private produce(until: number): Int16Array {
    const out: number[] = [];
    while (this.position <= until) {
      out.push(this.sampleAt(this.position));
      this.position += this.step;
    }
    // Keep what the next output samples still reach back to.
    const keepFrom = Math.max(this.base, Math.floor(this.position) - this.halfWidth);
    this.pending = this.pending.slice(keepFrom - this.base);
    this.base = keepFrom;
    return Int16Array.from(out, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
  }

  private sampleAt(position: number): number {
    const centre = Math.floor(position);
    const weights = this.weightsFor(position - centre);
    let sum = 0;
    for (let k = 0; k < weights.length; k++) {
      const index = centre - this.halfWidth + k - this.base;
      if (index >= 0 && index < this.pending.length) sum += this.pending[index]! * weights[k]!;
    }
    return sum;
  }

  /** Weights of input samples centre−halfWidth … centre+halfWidth for an output at centre + fraction. */
  private weightsFor(fraction: number): Float64Array {
    const key = Math.round(fraction * 1e6);
    let weights = this.weights.get(key);
    if (!weights) {
      weights = new Float64Array(2 * this.halfWidth + 1);
      for (let k = 0; k < weights.length; k++) weights[k] = kernel((k - this.halfWidth - fraction) * this.cutoff) * this.cutoff;
      if (this.weights.size < 4096) this.weights.set(key, weights);
    }
    return weights;
  }
}

/** Windowed sinc at `x` zero crossings from the centre (0 beyond ZERO_CROSSINGS). */
function kernel(x: number): number {
  const distance = Math.abs(x);
  if (distance >= ZERO_CROSSINGS) return 0;
  const sinc = distance === 0 ? 1 : Math.sin(Math.PI * distance) / (Math.PI * distance);
  const w = 0.5 + distance / (2 * ZERO_CROSSINGS);
  return sinc * (0.42 - 0.5 * Math.cos(2 * Math.PI * w) + 0.08 * Math.cos(4 * Math.PI * w));
}

/** Whole-buffer resampling (one sentence of speech). */
export function resamplePcm(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  const resampler = new PcmResampler(fromRate, toRate);
  const head = resampler.push(pcm);
  const tail = resampler.flush();
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
