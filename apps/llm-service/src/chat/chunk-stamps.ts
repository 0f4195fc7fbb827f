import type { NatsConnection } from '@nats-io/transport-node';
import type { ChatRequest } from '@parley/contracts';

/** Milliseconds since the epoch with sub-millisecond resolution: comparable across processes on one machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/**
 * Bench-only, off unless `LLM_BENCH_STAMP_SUBJECT` is set: publishes on that subject when a
 * generation starts (with the request, so a bench can replay the exact prompt in-process) and
 * when each chunk left the engine, so `npm run bench` measures the relay overhead to the client
 * instead of inferring it. The stamp is taken before the chunk is handed on; the publish
 * happens after, so it does not delay the chunk.
 */
export class ChunkStamps {
  constructor(
    private readonly nats: NatsConnection | undefined,
    private readonly subject: string | undefined,
  ) {}

  /** Stamps the start of a generation; returns what to call for each chunk (a no-op when off). */
  begin(request: ChatRequest): (emit: () => void) => void {
    const { nats, subject } = this;
    if (!nats || !subject) return (emit) => emit();
    const id = request.request_id;
    nats.publish(subject, JSON.stringify({ request_id: id, n: -1, at_ms: epochMs(), request }));
    let n = 0;
    return (emit) => {
      const atMs = epochMs();
      emit();
      nats.publish(subject, JSON.stringify({ request_id: id, n: n++, at_ms: atMs }));
    };
  }
}

/** Stamps that do nothing (the default). */
export const NO_CHUNK_STAMPS = new ChunkStamps(undefined, undefined);
