// Clients of the public interfaces only: the gateway's HTTP/SSE routes and the services' NATS
// subjects (NestJS's request/stream wire format), each event stamped with its arrival time.
import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { SUBJECTS } from '@parley/contracts';
import { createParser } from 'eventsource-parser';
import { lastValueFrom, tap } from 'rxjs';
import { epochMs } from './stats.mjs';

/** Reads an SSE response: `[{ event, data, at }]`, `at` in epoch ms at parse time. */
export async function readSse(res) {
  const events = [];
  const parser = createParser({
    onEvent: (m) => events.push({ event: m.event ?? 'message', data: JSON.parse(m.data), at: epochMs() }),
  });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  return events;
}

/** A conversation turn over SSE: the events, when it was sent, and when the response headers came. */
export async function postSse(url, body, { onHeaders } = {}) {
  const sentAt = epochMs();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  onHeaders?.(res);
  const events = await readSse(res);
  return { sentAt, status: res.status, events };
}

/** speak-stream with a WAV upload (multipart, as a browser sends it). */
export async function speakStream(base, wavPath, fields) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append('audio', new Blob([readFileSync(wavPath)]), 'speech.wav');
  const sentAt = epochMs();
  const res = await fetch(`${base}/api/conversation/speak-stream`, { method: 'POST', body: form });
  return { sentAt, status: res.status, events: await readSse(res) };
}

/** The terminal event of a stream and its error code, if any. */
export function outcome(events) {
  const last = events.at(-1);
  return {
    ok: last?.event === 'complete',
    code: last?.event === 'error' ? last.data.code : last ? undefined : 'NO_EVENTS',
  };
}

/** The llm-service's chat subject through NestJS's NATS client, as the gateway calls it. */
export class LlmNatsClient {
  constructor(natsUrl) {
    this.proxy = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: natsUrl } });
  }

  /** Streams one chat; returns `{ sentAt, chunks: [epoch ms], done }`. */
  async chat(request) {
    const sentAt = epochMs();
    const chunks = [];
    let done;
    await lastValueFrom(
      this.proxy.send(SUBJECTS.llm.chat, request).pipe(
        tap((message) => {
          if (message.type === 'chunk') chunks.push(epochMs());
          else if (message.type === 'done') done = message;
        }),
      ),
    );
    return { sentAt, chunks, done };
  }

  close() {
    return this.proxy.close();
  }
}

/**
 * Collects the llm-service's bench-only chunk stamps (LLM_BENCH_STAMP_SUBJECT): per request id,
 * the request as the service received it, when generation started and when each chunk left the engine.
 */
export class ChunkStampCollector {
  static async start(natsUrl) {
    const collector = new ChunkStampCollector();
    collector.subject = `parley.bench.stamps.${Math.random().toString(36).slice(2)}`;
    collector.nc = await connect({ servers: natsUrl, name: 'bench-stamps' });
    collector.byId = new Map();
    const sub = collector.nc.subscribe(collector.subject);
    void (async () => {
      for await (const m of sub) {
        const stamp = JSON.parse(new TextDecoder().decode(m.data));
        const entry = collector.byId.get(stamp.request_id) ?? { chunks: [] };
        if (stamp.n < 0) Object.assign(entry, { request: stamp.request, startedAt: stamp.at_ms });
        else entry.chunks[stamp.n] = stamp.at_ms;
        collector.byId.set(stamp.request_id, entry);
      }
    })();
    return collector;
  }

  /** Waits until every stamp published so far has arrived (a round trip to the broker). */
  flush() {
    return this.nc.flush();
  }

  byRequestId(id) {
    return this.byId.get(id);
  }

  /** The generation whose last user message is `content` (how a gateway turn is found). */
  byUserMessage(content) {
    for (const entry of this.byId.values()) if (entry.request?.messages.at(-1)?.content === content) return entry;
    return undefined;
  }

  close() {
    return this.nc.close();
  }
}
