import { detectContainer, sniffContainer } from './audio-container.js';

describe('audio container sniffing', () => {
  const bytes = (...values: Array<number | string>) =>
    new Uint8Array(values.flatMap((v) => (typeof v === 'string' ? [...v].map((c) => c.charCodeAt(0)) : [v])));

  it.each([
    ['wav', bytes('RIFF', 0, 0, 0, 0, 'WAVE')],
    ['webm', bytes(0x1a, 0x45, 0xdf, 0xa3, 0, 0)],
    ['ogg', bytes('OggS', 0, 2)],
    ['mp3', bytes('ID3', 4, 0, 0, 0, 0, 0, 0)],
    ['mp4', bytes(0, 0, 0, 0x20, 'ftypM4A ')],
  ])('recognises %s from its first bytes', (container, head) => {
    expect(sniffContainer(head)).toBe(container);
  });

  it('refuses text as not audio, and empty input as empty', () => {
    expect(() => detectContainer(bytes('<html>hello</html>'))).toThrow(/not an audio file.*looks like text/);
    expect(() => detectContainer(new Uint8Array(0))).toThrow(/empty/);
  });
});
