import type { AudioTranscriptionRequest } from '@parley/contracts';

export interface TimedSegment {
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
  text: string;
}

export interface TranscriptForFormats {
  text: string;
  language: string;
  /** Seconds of audio (for verbose_json). */
  duration: number;
  segments: TimedSegment[];
}

/** `01:02:03,456` (SRT) or `01:02:03.456` (WebVTT). */
function timestamp(seconds: number, separator: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

export function toSrt(segments: readonly TimedSegment[]): string {
  return segments
    .map(
      (segment, i) =>
        `${i + 1}\n${timestamp(segment.start, ',')} --> ${timestamp(segment.end, ',')}\n${segment.text.trim()}\n`,
    )
    .join('\n');
}

export function toVtt(segments: readonly TimedSegment[]): string {
  const cues = segments.map(
    (segment) => `${timestamp(segment.start, '.')} --> ${timestamp(segment.end, '.')}\n${segment.text.trim()}\n`,
  );
  return ['WEBVTT\n', ...cues].join('\n');
}

/** The answer of /v1/audio/transcriptions in the asked format: a JSON body, or text with its content type. */
export function formatTranscript(
  transcript: TranscriptForFormats,
  format: AudioTranscriptionRequest['response_format'],
): { json: object } | { text: string; contentType: string } {
  switch (format) {
    case 'json':
      return { json: { text: transcript.text } };
    case 'verbose_json':
      return {
        json: {
          task: 'transcribe',
          language: transcript.language,
          duration: transcript.duration,
          text: transcript.text,
          segments: transcript.segments.map((segment, id) => ({
            id,
            start: segment.start,
            end: segment.end,
            text: segment.text,
          })),
        },
      };
    case 'text':
      return { text: `${transcript.text}\n`, contentType: 'text/plain; charset=utf-8' };
    case 'srt':
      return { text: toSrt(transcript.segments), contentType: 'application/x-subrip; charset=utf-8' };
    case 'vtt':
      return { text: toVtt(transcript.segments), contentType: 'text/vtt; charset=utf-8' };
  }
}
