import type { MetricService } from '@parley/contracts';
import { waitUntil } from '@parley/service-kit/testing';
import { startReadyParley, type ReadyParley, type RunningService } from './system.js';

const TURN_FIELDS = { language: 'en', difficulty: 'beginner', scenario: 'greeting' };

interface LogLine {
  level: string;
  time: string;
  service: string;
  msg: string;
  context?: string;
  request_id?: string;
}

/** The JSON lines a process wrote (anything else it printed, e.g. a native library's, is skipped). */
function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/**
 * One request id follows a turn through all four services: given by the caller (or created by
 * the gateway), answered in X-Request-Id, sent in the NATS header of each request the turn makes,
 * on the log lines of every service that worked on it, and in the turn's error event.
 */
describe('a request id in every log line of a turn, across the four services', () => {
  let parley: ReadyParley;
  let services: RunningService[] = [];
  let gatewayUrl: string;
  let speech: Uint8Array;
  let silence: Uint8Array;

  const logOf = (service: MetricService) => services.find((s) => s.service === service)!.process.output();

  function speakStream(wav: Uint8Array, headers: Record<string, string> = {}) {
    const form = new FormData();
    for (const [key, value] of Object.entries(TURN_FIELDS)) form.append(key, value);
    form.append('audio', new Blob([wav as Uint8Array<ArrayBuffer>]), 'turn.wav');
    return fetch(`${gatewayUrl}/api/conversation/speak-stream`, { method: 'POST', body: form, headers });
  }

  beforeAll(async () => {
    parley = await startReadyParley('log');
    ({ services, gatewayUrl, speechWav: speech, silenceWav: silence } = parley);
  }, 180_000);

  afterAll(() => parley?.stop());

  it("follows the caller's X-Request-Id from the gateway through stt, llm and tts", async () => {
    const requestId = `turn-${Date.now()}`;
    const res = await speakStream(speech, { 'X-Request-Id': requestId });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const body = await res.text();
    expect(body).toContain('event: audio');
    expect(body).toContain('event: complete');

    const expected: Record<MetricService, RegExp> = {
      gateway: /^POST \/api\/conversation\/speak-stream 200 in \d+ ms$/,
      stt: /^parley\.v1\.stt\.transcribe answered in \d+ ms$/,
      llm: /^parley\.v1\.llm\.chat answered in \d+ ms$/,
      tts: /^parley\.v1\.tts\.synthesize answered in \d+ ms$/,
    };
    for (const [service, line] of Object.entries(expected) as Array<[MetricService, RegExp]>) {
      // The access line is written when the response closes: give it a moment.
      const lines = await waitUntil(
        () => {
          const found = jsonLines(logOf(service)).filter((l) => l.request_id === requestId);
          return found.some((l) => line.test(l.msg)) ? found : false;
        },
        `${service} logging ${requestId}`,
        5000,
      ).catch((error) => {
        throw new Error(`${String(error)}\n--- ${service}\n${logOf(service)}`);
      });
      expect(
        lines && lines.every((l) => l.service === service && typeof l.time === 'string' && typeof l.level === 'string'),
      ).toBe(true);
    }
  });

  it('creates an id when the caller sends none (or an unusable one), and names it in the error event', async () => {
    const res = await speakStream(silence, { 'X-Request-Id': 'not a usable id!' });
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    const body = await res.text();
    const error = JSON.parse(/event: error\ndata: (.*)\n/.exec(body)![1]!) as Record<string, string>;
    expect(error).toEqual({ code: 'NO_SPEECH', error: expect.any(String), request_id: requestId });
    await waitUntil(
      () =>
        jsonLines(logOf('stt')).some(
          (l) => l.request_id === requestId && /transcribe failed \(NO_SPEECH\)/.test(l.msg),
        ),
      'stt logging the failed request',
      5000,
    );
  });

  it('writes every log line of the four services as JSON', () => {
    for (const service of ['gateway', 'llm', 'stt', 'tts'] as const) {
      const lines = jsonLines(logOf(service));
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.filter((l) => l.service !== service || !l.msg)).toEqual([]);
    }
  });
});
