import { floatToPcm16, splitPcm } from './pcm.js';

const int16s = (bytes: Uint8Array) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 2 }, (_, i) => view.getInt16(i * 2, true));
};

describe('floatToPcm16', () => {
  it('writes two little-endian bytes per sample, full scale at -1 and 1', () => {
    const pcm = floatToPcm16(new Float32Array([0, 1, -1, 0.5, -0.5]));
    expect(pcm.byteLength).toBe(10);
    expect(int16s(pcm)).toEqual([0, 32767, -32768, 16384, -16384]);
    expect([pcm[2], pcm[3]]).toEqual([0xff, 0x7f]);
  });

  it('clamps samples beyond [-1, 1] and turns NaN into silence', () => {
    expect(int16s(floatToPcm16(new Float32Array([1.7, -3, Number.NaN, Infinity, -Infinity])))).toEqual([32767, -32768, 0, 32767, -32768]);
  });

  it('gives no bytes for no samples', () => {
    expect(floatToPcm16(new Float32Array(0)).byteLength).toBe(0);
  });
});

describe('splitPcm', () => {
  it('keeps a small chunk whole', () => {
    const pcm = new Uint8Array(100);
    expect(splitPcm(pcm, 128)).toEqual([pcm]);
  });

  it('splits a large chunk into whole-sample pieces no larger than the limit, in order', () => {
    const pcm = Uint8Array.from({ length: 1001 * 2 }, (_, i) => i % 251);
    const pieces = splitPcm(pcm, 301);
    expect(pieces.every((p) => p.byteLength <= 300 && p.byteLength % 2 === 0)).toBe(true);
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(pcm));
  });

  it('gives no pieces for no bytes', () => {
    expect(splitPcm(new Uint8Array(0), 128)).toEqual([]);
  });
});
