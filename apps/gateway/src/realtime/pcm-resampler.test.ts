import { PcmResampler, resamplePcm } from './pcm-resampler.js';

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5) =>
  Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)));

/** Amplitude of `hz` in `pcm` (a single-bin DFT, normalised to a full-scale sine = 1). */
function amplitudeOf(pcm: Int16Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < pcm.length; i++) {
    re += pcm[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im += pcm[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / pcm.length / 32767;
}

describe('PcmResampler', () => {
  it('turns 24 kHz into 16 kHz: 2 samples out of 3, a 1 kHz tone kept at its level', () => {
    const out = resamplePcm(tone(1000, 24_000, 1), 24_000, 16_000);
    expect(out.length).toBe(16_000);
    expect(amplitudeOf(out.subarray(100, 15_900), 1000, 16_000)).toBeCloseTo(0.5, 1);
  });

  it('removes what lies above the new Nyquist frequency instead of aliasing it (10 kHz at 24 → 16 kHz)', () => {
    const out = resamplePcm(tone(10_000, 24_000, 1), 24_000, 16_000);
    // 10 kHz would alias to 6 kHz.
    expect(amplitudeOf(out.subarray(100, 15_900), 6000, 16_000)).toBeLessThan(0.02);
  });

  it('gives the same samples whether the audio comes in 40 ms chunks or at once (no seams)', () => {
    const input = tone(440, 24_000, 0.5);
    const whole = resamplePcm(input, 24_000, 16_000);
    const streaming = new PcmResampler(24_000, 16_000);
    const pieces: number[] = [];
    for (let at = 0; at < input.length; at += 960) pieces.push(...streaming.push(input.subarray(at, at + 960)));
    pieces.push(...streaming.flush());
    expect(pieces.length).toBe(whole.length);
    expect(Math.max(...pieces.map((v, i) => Math.abs(v - whole[i]!)))).toBeLessThanOrEqual(1);
  });

  it('upsamples a voice (22.05 kHz) to 24 kHz at the right length and level', () => {
    const out = resamplePcm(tone(500, 22_050, 1), 22_050, 24_000);
    expect(out.length).toBe(24_000);
    expect(amplitudeOf(out.subarray(100, 23_900), 500, 24_000)).toBeCloseTo(0.5, 1);
  });
});
