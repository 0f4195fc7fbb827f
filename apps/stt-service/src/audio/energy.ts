/** Loudness of decoded audio, used to refuse silence before it reaches whisper. */
export interface AudioLevel {
  /** Peak absolute sample value in dBFS (-Infinity for digital silence). */
  peakDbfs: number;
  /** RMS of the loudest 30 ms window, in dBFS. */
  maxWindowRmsDbfs: number;
}

const toDb = (value: number) => (value > 0 ? 20 * Math.log10(value) : -Infinity);

export function measureLevel(samples: Float32Array, sampleRate: number, windowMs = 30): AudioLevel {
  const window = Math.max(1, Math.round((sampleRate * windowMs) / 1000));
  let peak = 0;
  let maxMeanSquare = 0;
  for (let start = 0; start < samples.length; start += window) {
    const end = Math.min(samples.length, start + window);
    let sumSquares = 0;
    for (let i = start; i < end; i++) {
      const s = samples[i]!;
      const a = s < 0 ? -s : s;
      if (a > peak) peak = a;
      sumSquares += s * s;
    }
    const meanSquare = sumSquares / (end - start);
    if (meanSquare > maxMeanSquare) maxMeanSquare = meanSquare;
  }
  return { peakDbfs: toDb(peak), maxWindowRmsDbfs: toDb(Math.sqrt(maxMeanSquare)) };
}

/** Silence: no 30 ms window louder than `thresholdDbfs` RMS. */
export function isSilent(samples: Float32Array, sampleRate: number, thresholdDbfs: number): boolean {
  return measureLevel(samples, sampleRate).maxWindowRmsDbfs < thresholdDbfs;
}
