import { decodeBinaryFrame, encodeBinaryFrame, isBinaryFrame } from './binary-frame.js';

describe('binary frames', () => {
  it('carries byte fields raw next to the JSON and restores them', () => {
    const pcm = new Uint8Array([1, 2, 3, 250]);
    const frame = encodeBinaryFrame({ response: { type: 'audio', seq: 3, pcm }, id: 'x' });
    expect(isBinaryFrame(frame)).toBe(true);
    expect(frame.byteLength).toBeLessThan(80);
    const decoded = decodeBinaryFrame(frame) as { response: { pcm: Uint8Array; seq: number }; id: string };
    expect(decoded.id).toBe('x');
    expect(decoded.response.seq).toBe(3);
    expect([...decoded.response.pcm]).toEqual([1, 2, 3, 250]);
  });

  it('refuses a frame whose byte reference points past its end', () => {
    const frame = encodeBinaryFrame({ pcm: new Uint8Array(10) });
    expect(() => decodeBinaryFrame(frame.subarray(0, frame.byteLength - 5))).toThrow(/out of range/);
  });
});
