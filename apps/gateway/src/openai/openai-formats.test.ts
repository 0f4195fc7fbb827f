import { formatTranscript, toSrt, toVtt } from './transcript-formats.js';

const SEGMENTS = [
  { start: 0, end: 1.5, text: ' Hello there.' },
  { start: 1.5, end: 3723.004, text: ' I would like a coffee.' },
];

describe('transcript formats', () => {
  it('writes SRT cues numbered from 1 with comma milliseconds', () => {
    expect(toSrt(SEGMENTS)).toBe(
      '1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n00:00:01,500 --> 01:02:03,004\nI would like a coffee.\n',
    );
  });

  it('writes WebVTT with its header and dot milliseconds', () => {
    expect(toVtt(SEGMENTS)).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n00:00:01.500 --> 01:02:03.004\nI would like a coffee.\n',
    );
  });

  it('answers json with the text only and verbose_json with language, duration and numbered segments', () => {
    const transcript = { text: 'Hello there.', language: 'english', duration: 3.2, segments: SEGMENTS };
    expect(formatTranscript(transcript, 'json')).toEqual({ json: { text: 'Hello there.' } });
    expect(formatTranscript(transcript, 'verbose_json')).toEqual({
      json: {
        task: 'transcribe',
        language: 'english',
        duration: 3.2,
        text: 'Hello there.',
        segments: [
          { id: 0, ...SEGMENTS[0] },
          { id: 1, ...SEGMENTS[1] },
        ],
      },
    });
    expect(formatTranscript(transcript, 'text')).toEqual({
      text: 'Hello there.\n',
      contentType: 'text/plain; charset=utf-8',
    });
  });
});
