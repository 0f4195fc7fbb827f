/**
 * Band-limited resampling with a windowed-sinc kernel (Blackman window, 16 zero crossings).
 * Downsampling lowers the cut-off to the new Nyquist frequency, so 44.1/48 kHz speech does not
 * alias into the 0–8 kHz band whisper listens to. The kernel is tabulated once and read with
 * linear interpolation, which keeps a 2-minute 48 kHz file well under a second.
 */
const ZERO_CROSSINGS = 16;
const TABLE_RESOLUTION = 512; // kernel samples per zero crossing
const KERNEL = buildKernel();

function buildKernel(): Float64Array {
  const size = ZERO_CROSSINGS * TABLE_RESOLUTION + 2;
  const table = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const x = i / TABLE_RESOLUTION; // in zero crossings
    if (x >= ZERO_CROSSINGS) continue;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const w = 0.5 + x / (2 * ZERO_CROSSINGS); // window position 0.5..1 (centre to edge)
    const blackman = 0.42 - 0.5 * Math.cos(2 * Math.PI * w) + 0.08 * Math.cos(4 * Math.PI * w);
    table[i] = sinc * blackman;
  }
  return table;
}

interface Resampling {
  input: Float32Array;
  out: Float32Array;
  step: number;
  cutoff: number;
  halfWidth: number;
}

function plan(input: Float32Array, fromRate: number, toRate: number): Resampling | undefined {
  if (!(fromRate > 0) || !(toRate > 0)) throw new Error(`bad sample rates ${fromRate} → ${toRate}`);
  if (fromRate === toRate || input.length === 0) return undefined;
  const step = fromRate / toRate; // input samples per output sample
  const cutoff = Math.min(1, toRate / fromRate); // fraction of the input's Nyquist frequency kept
  return {
    input,
    out: new Float32Array(Math.max(1, Math.round(input.length / step))),
    step,
    cutoff,
    halfWidth: ZERO_CROSSINGS / cutoff, // kernel half-width in input samples
  };
}

/** Computes output samples [from, to). */
function resampleRange({ input, out, step, cutoff, halfWidth }: Resampling, from: number, to: number): void {
  const last = input.length - 1;
  for (let i = from; i < to; i++) {
    const t = i * step;
    const lo = Math.max(0, Math.ceil(t - halfWidth));
    const hi = Math.min(last, Math.floor(t + halfWidth));
    let sum = 0;
    let weights = 0;
    for (let j = lo; j <= hi; j++) {
      const position = Math.abs(t - j) * cutoff * TABLE_RESOLUTION;
      const index = position | 0;
      const frac = position - index;
      const w = KERNEL[index]! + (KERNEL[index + 1]! - KERNEL[index]!) * frac;
      sum += input[j]! * w;
      weights += w;
    }
    // Normalising by the summed weights keeps the gain exact at the edges and for any ratio.
    out[i] = weights !== 0 ? sum / weights : 0;
  }
}

export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  const work = plan(input, fromRate, toRate);
  if (!work) return input;
  resampleRange(work, 0, work.out.length);
  return work.out;
}

/** Output samples computed between two yields to the event loop (~1 s of 16 kHz audio, tens of ms). */
const SLICE = 16_000;

/**
 * The same, giving the event loop a turn every slice: two minutes of 48 kHz audio take seconds
 * of CPU, and a service must keep sending heartbeats and reading cancels meanwhile.
 */
export async function resampleYielding(input: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  const work = plan(input, fromRate, toRate);
  if (!work) return input;
  for (let from = 0; from < work.out.length; from += SLICE) {
    resampleRange(work, from, Math.min(work.out.length, from + SLICE));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return work.out;
}
