import { lastVoicedSample, pcm16ToFloat32, SampleHistory } from './sample-history.js';

describe('SampleHistory', () => {
  it('slices by stream index after old audio was discarded', () => {
    const history = new SampleHistory();
    const chunk = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);
    for (let at = 0; at < 200_000; at += 1000) history.append(chunk(at, 1000));
    history.discardBefore(150_000);
    expect(history.end).toBe(200_000);
    expect(Array.from(history.slice(150_000, 150_003))).toEqual([150_000, 150_001, 150_002]);
    expect(history.slice(100_000, 150_002)).toHaveLength(2); // clipped to what is held
    expect(history.slice(199_999, 300_000)).toHaveLength(1);
  });
});

describe('lastVoicedSample', () => {
  const tone = (n: number, amplitude: number) => Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin(i / 3));
  const join = (...parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const options = { rangeDb: 40, maxTrim: 8000, window: 160 };

  it('moves the end back over trailing silence, to the window holding the last voice', () => {
    expect(lastVoicedSample(join(tone(16_000, 0.5), new Float32Array(3200)), options)).toBe(16_000);
  });

  it('keeps the end when the tail is noise within the range, and never trims more than maxTrim', () => {
    const noisy = join(tone(16_000, 0.5), tone(3200, 0.05));
    expect(lastVoicedSample(noisy, options)).toBe(noisy.length);
    const long = join(tone(16_000, 0.5), new Float32Array(12_000));
    expect(lastVoicedSample(long, options)).toBe(long.length - 8000);
  });
});

describe('pcm16ToFloat32', () => {
  it('reads little-endian 16-bit samples into [-1, 1)', () => {
    const bytes = new Uint8Array([0x00, 0x80, 0xff, 0x7f, 0x00, 0x00, 0x00, 0x40]);
    expect(Array.from(pcm16ToFloat32(bytes))).toEqual([-1, 32767 / 32768, 0, 0.5]);
  });
});
