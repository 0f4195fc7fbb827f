import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import {
  parsePayload,
  serviceHealthSchema,
  SUBJECTS,
  synthesizeStreamMessageSchema,
  type ServiceHealth,
  type SynthesizeRequest,
  type SynthesizeStreamMessage,
} from '@parley/contracts';
import { BinaryAwareNatsDeserializer, streamRequest } from '@parley/service-kit';
import { spawnService, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';
import { rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, Observable, timeout, toArray } from 'rxjs';

export const TTS_SERVICE_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface VoiceEnv {
  id: string;
  languages: string[];
  model: string;
  tokens: string;
  speakers?: number;
}

/** Spawns the built tts-service with the given voices (one onnxruntime thread, quiet logs). */
export function startTtsService(natsUrl: string, voices: VoiceEnv[], httpPort: number, extraEnv: Record<string, string> = {}): SpawnedService {
  return spawnService('tts-service', TTS_SERVICE_MAIN, {
    NATS_URL: natsUrl,
    TTS_VOICES: JSON.stringify(voices),
    TTS_THREADS: '1',
    TTS_HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  });
}

/** A NestJS client on the broker that reads binary-frame replies, as the gateway does. */
export function natsClient(servers: string): ClientProxy {
  return ClientProxyFactory.create({
    transport: Transport.NATS,
    options: { servers, deserializer: new BinaryAwareNatsDeserializer() },
  });
}

export type AudioMessage = Extract<SynthesizeStreamMessage, { type: 'audio' }>;
export type DoneMessage = Extract<SynthesizeStreamMessage, { type: 'done' }>;

/** The synthesis stream for a request (defaults: English, a fresh request id). */
export function synthesize$(client: ClientProxy, request: Partial<SynthesizeRequest> & Record<string, unknown>): Observable<SynthesizeStreamMessage> {
  return streamRequest(
    client,
    { request_id: `t-${randomUUID()}`, language: 'en', ...request } as SynthesizeRequest,
    {
      service: 'tts',
      subject: SUBJECTS.tts.synthesize,
      parse: (reply) => parsePayload(synthesizeStreamMessageSchema, reply, 'synthesize reply'),
      firstReplyTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
    },
  );
}

export interface Synthesis {
  audio: AudioMessage[];
  done: DoneMessage;
  /** All PCM bytes, in order. */
  pcm: Buffer;
}

/** Runs a synthesis to its end; checks that exactly one `done` comes last. */
export async function synthesize(client: ClientProxy, request: Partial<SynthesizeRequest> & Record<string, unknown>): Promise<Synthesis> {
  const messages = await lastValueFrom(synthesize$(client, request).pipe(toArray()));
  const done = messages.at(-1);
  if (done?.type !== 'done') throw new Error(`the stream did not end with done: ${JSON.stringify(messages.map((m) => m.type))}`);
  const audio = messages.slice(0, -1) as AudioMessage[];
  if (audio.some((m) => m.type !== 'audio')) throw new Error('a message other than audio came before done');
  return { audio, done, pcm: Buffer.concat(audio.map((m) => m.pcm)) };
}

export async function health(client: ClientProxy): Promise<ServiceHealth> {
  return serviceHealthSchema.parse(await firstValueFrom(client.send(SUBJECTS.tts.health, {}).pipe(timeout(5_000))));
}

export async function metrics(httpPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
}

/** Peak absolute 16-bit sample value of little-endian PCM. */
export function peak(pcm: Buffer): number {
  let max = 0;
  for (let i = 0; i + 1 < pcm.length; i += 2) max = Math.max(max, Math.abs(pcm.readInt16LE(i)));
  return max;
}

/** Waits until the service reports its voices loaded; on failure shows what the service printed. */
export async function waitForVoices(client: ClientProxy, service: SpawnedService): Promise<void> {
  await waitUntil(async () => (await health(client)).status === 'loaded', 'the tts voices to load').catch((error) => {
    throw new Error(`${String(error)}\ntts-service output:\n${service.output()}`);
  });
}

/** Tears down what a suite started, in order, tolerating parts that never started. */
export async function stopAll(parts: { client?: ClientProxy; service?: SpawnedService; nats?: TestNatsServer; dir?: string }): Promise<void> {
  await parts.client?.close();
  await parts.service?.stop();
  await parts.nats?.stop();
  if (parts.dir) await rm(parts.dir, { recursive: true, force: true });
}
