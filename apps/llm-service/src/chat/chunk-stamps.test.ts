import type { NatsConnection } from '@nats-io/transport-node';
import { ChunkStamps, NO_CHUNK_STAMPS } from './chunk-stamps.js';

/** Records what would be published, and the order of publishes and emits. */
function recordingNats(log: string[]) {
  const published: Array<{ subject: string; body: Record<string, unknown> }> = [];
  const nats = {
    publish: (subject: string, data: string) => {
      const body = JSON.parse(data) as Record<string, unknown>;
      published.push({ subject, body });
      log.push(`stamp ${String(body.n)}`);
    },
  } as unknown as NatsConnection;
  return { nats, published };
}

const request = { request_id: 'abcdefgh', messages: [{ role: 'user' as const, content: 'Hola' }], max_tokens: 5 };

describe('ChunkStamps (bench-only)', () => {
  it('publishes the request at the start and a numbered engine timestamp per chunk, after the chunk is handed on', () => {
    const log: string[] = [];
    const { nats, published } = recordingNats(log);
    const stamp = new ChunkStamps(nats, 'bench.stamps').begin(request);
    const before = performance.timeOrigin + performance.now();
    stamp(() => log.push('emit 0'));
    stamp(() => log.push('emit 1'));
    expect(log).toEqual(['stamp -1', 'emit 0', 'stamp 0', 'emit 1', 'stamp 1']);
    expect(published.map((p) => p.subject)).toEqual(['bench.stamps', 'bench.stamps', 'bench.stamps']);
    expect(published[0]!.body).toEqual({ request_id: 'abcdefgh', n: -1, at_ms: expect.any(Number), request });
    expect(published[1]!.body.at_ms).toBeGreaterThanOrEqual(before);
    expect(published[2]!.body.at_ms).toBeGreaterThanOrEqual(published[1]!.body.at_ms as number);
  });

  it('only hands the chunk on when no subject is configured', () => {
    const log: string[] = [];
    const { nats, published } = recordingNats(log);
    new ChunkStamps(nats, undefined).begin(request)(() => log.push('emit'));
    NO_CHUNK_STAMPS.begin(request)(() => log.push('emit'));
    expect(log).toEqual(['emit', 'emit']);
    expect(published).toEqual([]);
  });
});
