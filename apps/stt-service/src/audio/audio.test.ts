import { ParleyError } from '@parley/contracts';
import {
  decodeAudio,
  decodeWavPcm,
  detectContainer,
  encodeWav16,
  isPcmWav,
  measureLevel,
  parseWavHeader,
  resample,
  resampleYielding,
  s16leToFloat,
  sniffContainer,
} from './index.js';
import { languageCode } from '../engine/languages.js';
import { assertNotSilent } from '../transcribe/speech-presence.js';

interface WavSpec {
  format: 1 | 3 | 0xfffe | 7;
  subFormat?: 1 | 3;
  bits: number;
  rate: number;
  channels: number[][]; // one array of float samples per channel
  dataSizeOverride?: number;
  extraChunkBeforeData?: Uint8Array; // odd-sized LIST chunk, to test padding
}

/** Writes a WAV file by hand (independent of the code under test). */
function makeWav(spec: WavSpec): Uint8Array {
  const channels = spec.channels.length;
  const frames = spec.channels[0]!.length;
  const bytesPerSample = spec.bits / 8;
  const dataBytes = frames * channels * bytesPerSample;
  const fmtSize = spec.format === 0xfffe ? 40 : 16;
  const extra = spec.extraChunkBeforeData;
  const extraBytes = extra ? 8 + extra.length + (extra.length % 2) : 0;
  const buf = Buffer.alloc(12 + 8 + fmtSize + extraBytes + 8 + dataBytes);
  let o = 0;
  buf.write('RIFF', o); buf.writeUInt32LE(buf.length - 8, 4); buf.write('WAVE', 8); o = 12;
  buf.write('fmt ', o); buf.writeUInt32LE(fmtSize, o + 4); o += 8;
  buf.writeUInt16LE(spec.format, o); buf.writeUInt16LE(channels, o + 2); buf.writeUInt32LE(spec.rate, o + 4);
  buf.writeUInt32LE(spec.rate * channels * bytesPerSample, o + 8); buf.writeUInt16LE(channels * bytesPerSample, o + 12);
  buf.writeUInt16LE(spec.bits, o + 14);
  if (spec.format === 0xfffe) {
    buf.writeUInt16LE(22, o + 16); buf.writeUInt16LE(spec.bits, o + 18); buf.writeUInt32LE(channels === 2 ? 3 : 4, o + 20);
    buf.writeUInt16LE(spec.subFormat ?? 1, o + 24);
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(buf, o + 26);
  }
  o += fmtSize;
  if (extra) {
    buf.write('LIST', o); buf.writeUInt32LE(extra.length, o + 4); Buffer.from(extra).copy(buf, o + 8); o += extraBytes;
  }
  buf.write('data', o); buf.writeUInt32LE(spec.dataSizeOverride ?? dataBytes, o + 4); o += 8;
  const isFloat = spec.format === 3 || (spec.format === 0xfffe && spec.subFormat === 3);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++, o += bytesPerSample) {
      const v = spec.channels[c]![f]!;
      if (isFloat) {
        if (spec.bits === 32) buf.writeFloatLE(v, o); else buf.writeDoubleLE(v, o);
      } else if (spec.bits === 8) buf.writeUInt8(Math.round(v * 127) + 128, o);
      else if (spec.bits === 16) buf.writeInt16LE(Math.round(v * 32767), o);
      else if (spec.bits === 24) buf.writeIntLE(Math.round(v * 8388607), o, 3);
      else buf.writeInt32LE(Math.round(v * 2147483647), o);
    }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

const sine = (freq: number, rate: number, seconds: number, amp = 0.5) =>
  Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));

function expectCode(fn: () => unknown, code: string, message?: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe(code);
    if (message) expect((error as ParleyError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a ParleyError ${code}`);
}

/** Amplitude of `freq` in `samples` (single-bin DFT). */
function toneAmplitude(samples: Float32Array, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < samples.length; i++) {
    re += samples[i]! * Math.cos((2 * Math.PI * freq * i) / rate);
    im -= samples[i]! * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / samples.length;
}

describe('container detection (from the bytes)', () => {
  const bytes = (...values: Array<number | string>) =>
    new Uint8Array(values.flatMap((v) => (typeof v === 'string' ? [...Buffer.from(v, 'latin1')] : [v])).concat(Array(16).fill(0)));

  it.each([
    ['wav', bytes('RIFF', 1, 2, 3, 4, 'WAVE')],
    ['webm', bytes(0x1a, 0x45, 0xdf, 0xa3)],
    ['ogg', bytes('OggS')],
    ['mp3', bytes('ID3', 4, 0)],
    ['mp3', bytes(0xff, 0xfb, 0x90, 0x64)], // MPEG-1 layer III frame
    ['aac', bytes(0xff, 0xf1, 0x50, 0x80)], // ADTS
    ['mp4', bytes(0, 0, 0, 0x20, 'ftypM4A ')],
    ['flac', bytes('fLaC')],
  ])('recognises %s', (expected, input) => {
    expect(sniffContainer(input)).toBe(expected);
    expect(detectContainer(input)).toBe(expected);
  });

  it('refuses other bytes as UNSUPPORTED_MEDIA, saying what they look like', () => {
    expectCode(() => detectContainer(new TextEncoder().encode('hello, this is not audio')), 'UNSUPPORTED_MEDIA', /not an audio file we can read: .*looks like text/);
    expectCode(() => detectContainer(bytes('RIFF', 0, 0, 0, 0, 'AVI ')), 'UNSUPPORTED_MEDIA');
    expectCode(() => detectContainer(bytes(0x89, 'PNG')), 'UNSUPPORTED_MEDIA', /89 50 4e 47/);
    expectCode(() => detectContainer(bytes(0xff, 0xff, 0xff, 0xff)), 'UNSUPPORTED_MEDIA');
  });

  it('refuses empty input as INVALID_REQUEST', () => {
    expectCode(() => detectContainer(new Uint8Array(0)), 'INVALID_REQUEST', /empty/);
  });
});

describe('WAV decoder', () => {
  const ramp = [0, 0.25, -0.25, 0.5, -0.5, 0.9, -0.9, 0.1];

  it.each([
    ['8-bit PCM', { format: 1, bits: 8 }, 1 / 64],
    ['16-bit PCM', { format: 1, bits: 16 }, 1e-4],
    ['24-bit PCM', { format: 1, bits: 24 }, 1e-6],
    ['32-bit PCM', { format: 1, bits: 32 }, 1e-6],
    ['32-bit float', { format: 3, bits: 32 }, 1e-7],
    ['64-bit float', { format: 3, bits: 64 }, 1e-7],
    ['EXTENSIBLE 24-bit PCM', { format: 0xfffe, subFormat: 1, bits: 24 }, 1e-6],
    ['EXTENSIBLE 32-bit float', { format: 0xfffe, subFormat: 3, bits: 32 }, 1e-7],
  ] as const)('decodes %s', (_name, fmt, tolerance) => {
    const wav = makeWav({ ...fmt, rate: 8000, channels: [ramp] } as WavSpec);
    const info = parseWavHeader(wav);
    expect(info).toMatchObject({ channels: 1, sampleRate: 8000, bitsPerSample: fmt.bits, frames: ramp.length });
    expect(isPcmWav(info)).toBe(true);
    const { samples, sampleRate } = decodeWavPcm(wav, info);
    expect(sampleRate).toBe(8000);
    expect(samples.length).toBe(ramp.length);
    ramp.forEach((v, i) => expect(Math.abs(samples[i]! - v)).toBeLessThanOrEqual(tolerance));
  });

  it('downmixes stereo by averaging the channels', () => {
    const left = [0.5, 0.5, -0.2, 0.8];
    const right = [0.5, -0.5, -0.2, 0];
    const { samples } = decodeWavPcm(makeWav({ format: 1, bits: 16, rate: 44100, channels: [left, right] }));
    expect(Array.from(samples, (s) => Math.round(s * 100) / 100)).toEqual([0.5, 0, -0.2, 0.4]);
  });

  it('skips other chunks, honouring the padding byte of odd-sized ones', () => {
    const wav = makeWav({ format: 1, bits: 16, rate: 16000, channels: [ramp], extraChunkBeforeData: new Uint8Array([1, 2, 3]) });
    expect(decodeWavPcm(wav).samples.length).toBe(ramp.length);
  });

  it('accepts the placeholder sizes of streaming writers (espeak-ng --stdout, pipes)', () => {
    for (const size of [0xffffffff, 0x7ffff000]) {
      const wav = makeWav({ format: 1, bits: 16, rate: 16000, channels: [ramp], dataSizeOverride: size });
      expect(parseWavHeader(wav).frames).toBe(ramp.length);
    }
  });

  it('refuses a truncated file as INVALID_REQUEST with a message', () => {
    const wav = makeWav({ format: 1, bits: 16, rate: 16000, channels: [sine(440, 16000, 1)] });
    expectCode(() => parseWavHeader(wav.subarray(0, 2000)), 'INVALID_REQUEST', /truncated: the header announces 32000 bytes/);
    expectCode(() => parseWavHeader(wav.subarray(0, 30)), 'INVALID_REQUEST', /no fmt chunk|fmt chunk is/);
    expectCode(() => parseWavHeader(wav.subarray(0, 40)), 'INVALID_REQUEST', /no data chunk/);
  });

  it('refuses broken headers as INVALID_REQUEST', () => {
    const wav = makeWav({ format: 1, bits: 16, rate: 16000, channels: [ramp] });
    const badAlign = Buffer.from(wav);
    badAlign.writeUInt16LE(3, 32);
    expectCode(() => parseWavHeader(badAlign), 'INVALID_REQUEST', /block align/);
    const badRate = Buffer.from(wav);
    badRate.writeUInt32LE(5, 24);
    expectCode(() => parseWavHeader(badRate), 'INVALID_REQUEST', /sample rate/);
  });

  it('reports compressed codecs as not PCM', () => {
    const mulaw = makeWav({ format: 7, bits: 8, rate: 8000, channels: [ramp] });
    const info = parseWavHeader(mulaw);
    expect(isPcmWav(info)).toBe(false);
    expectCode(() => decodeWavPcm(mulaw, info), 'UNSUPPORTED_MEDIA', /0x0007/);
  });

  it('round-trips through the 16-bit encoder used for whisper-server', () => {
    const samples = Float32Array.from(ramp);
    const wav = encodeWav16(samples, 16000);
    const info = parseWavHeader(wav);
    expect(info).toMatchObject({ format: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, frames: ramp.length });
    decodeWavPcm(wav).samples.forEach((v, i) => expect(v).toBeCloseTo(ramp[i]!, 3));
    expect(s16leToFloat(wav.subarray(44)).length).toBe(ramp.length);
  });
});

describe('resampler', () => {
  it('keeps length and pitch when converting 44.1 kHz and 48 kHz to 16 kHz', () => {
    for (const rate of [44100, 48000, 22050]) {
      const input = Float32Array.from(sine(1000, rate, 1));
      const out = resample(input, rate, 16000);
      expect(Math.abs(out.length - 16000)).toBeLessThanOrEqual(1);
      expect(toneAmplitude(out.subarray(400, 15600), 1000, 16000)).toBeCloseTo(0.5, 1);
    }
  });

  it('filters out what is above the new Nyquist frequency instead of aliasing it', () => {
    // 12 kHz at 48 kHz would alias to 4 kHz with plain interpolation.
    const out = resample(Float32Array.from(sine(12000, 48000, 1)), 48000, 16000);
    expect(toneAmplitude(out.subarray(400, 15600), 4000, 16000)).toBeLessThan(0.01);
    expect(measureLevel(out.subarray(400, 15600), 16000).peakDbfs).toBeLessThan(-30);
  });

  it('upsamples 8 kHz to 16 kHz', () => {
    const out = resample(Float32Array.from(sine(500, 8000, 0.5)), 8000, 16000);
    expect(out.length).toBe(8000);
    expect(toneAmplitude(out.subarray(200, 7800), 500, 16000)).toBeCloseTo(0.5, 1);
  });

  it('returns the input unchanged at the same rate', () => {
    const input = Float32Array.from(ramp());
    expect(resample(input, 16000, 16000)).toBe(input);
    function ramp() {
      return [0, 0.1, 0.2];
    }
  });
});

describe('resampleYielding', () => {
  it('computes the same samples as resample, giving the event loop turns on the way', async () => {
    const input = Float32Array.from(sine(440, 44_100, 2, 0.5));
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const yielded = await resampleYielding(input, 44_100, 16_000);
    clearInterval(ticking);
    expect(yielded).toEqual(resample(input, 44_100, 16_000));
    expect(turns).toBeGreaterThan(0);
  });
});

describe('silence detection', () => {
  it('calls digital silence and faint noise silent, speech-level audio not', () => {
    expectCode(() => assertNotSilent(new Float32Array(16000), -50), 'NO_SPEECH', /no speech detected/);
    const faint = Float32Array.from({ length: 16000 }, () => (Math.random() - 0.5) * 0.002); // ≈ -65 dBFS
    expectCode(() => assertNotSilent(faint, -50), 'NO_SPEECH');
    expect(() => assertNotSilent(Float32Array.from(sine(300, 16000, 1, 0.1)), -50)).not.toThrow();
  });

  it('notices a short loud burst in a long quiet file', () => {
    const audio = new Float32Array(16000 * 5);
    audio.set(Float32Array.from(sine(300, 16000, 0.1, 0.3)), 16000 * 3);
    expect(() => assertNotSilent(audio, -50)).not.toThrow();
  });
});

describe('decodeAudio', () => {
  const options = { maxSeconds: 2, ffmpegPath: undefined, ffmpegTimeoutMs: 10_000 };

  it('decodes PCM WAV in process to 16 kHz mono with its duration', async () => {
    const wav = makeWav({ format: 1, bits: 16, rate: 48000, channels: [sine(300, 48000, 1.5), sine(300, 48000, 1.5)] });
    const audio = await decodeAudio(wav, options);
    expect(audio).toMatchObject({ container: 'wav', decoder: 'wav', durationMs: 1500 });
    expect(audio.samples.length).toBe(24000);
  });

  it('refuses audio above the duration limit', async () => {
    const wav = makeWav({ format: 1, bits: 8, rate: 8000, channels: [sine(300, 8000, 3)] });
    await expect(decodeAudio(wav, options)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/3\.0 s long; the limit is 2 s/) });
  });

  it('refuses an empty data chunk', async () => {
    const wav = makeWav({ format: 1, bits: 16, rate: 16000, channels: [[]] });
    await expect(decodeAudio(wav, options)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('says clearly when ffmpeg is needed but missing', async () => {
    await expect(decodeAudio(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]), options)).rejects.toMatchObject({
      code: 'ENGINE_FAILED',
      message: expect.stringMatching(/ffmpeg is not available/),
    });
    await expect(
      decodeAudio(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]), { ...options, ffmpegPath: '/nonexistent/ffmpeg' }),
    ).rejects.toMatchObject({ code: 'ENGINE_FAILED', message: expect.stringMatching(/ffmpeg is not installed/) });
  });

  it('turns ffmpeg decoding failures into INVALID_REQUEST (needs ffmpeg)', async () => {
    const garbage = new Uint8Array(4096);
    garbage.set(Buffer.from('OggS'));
    await expect(decodeAudio(garbage, { ...options, ffmpegPath: 'ffmpeg' })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/could not decode the ogg audio/),
    });
  });
});

describe('language names', () => {
  it('maps whisper full names to codes', () => {
    expect(languageCode('english')).toBe('en');
    expect(languageCode('Spanish')).toBe('es');
    expect(languageCode('haitian creole')).toBe('ht');
    expect(languageCode('de')).toBe('de');
    expect(languageCode('klingon')).toBeUndefined();
  });
});
