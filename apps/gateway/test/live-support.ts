import { pcmFrames, samplesToMs, silencePcm } from '@parley/models/fixtures/speech';
import { waitUntil } from '@parley/service-kit/testing';
import WebSocket from 'ws';
import { upgradeOutcome } from './edge-support.js';

export type ServerEvent = { event: string; data: Record<string, any> };

/** A live socket as a client uses it: events in order, audio out at real-time pace. */
export class LiveSocket {
  readonly events: ServerEvent[] = [];
  closed?: { code: number; reason: string };
  /** Samples sent so far (the connection's clock). */
  sent = 0;
  private readonly socket: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data: Buffer) => this.events.push(JSON.parse(data.toString()) as ServerEvent));
    this.socket.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  async ready(): Promise<ServerEvent> {
    await this.opened;
    return this.until('ready', (e) => e.event === 'ready');
  }

  async until(what: string, match: (event: ServerEvent) => boolean, timeoutMs = 30_000): Promise<ServerEvent> {
    return waitUntil(() => this.events.find(match), `${what}; events so far: ${this.summary()}`, timeoutMs, 20) as Promise<ServerEvent>;
  }

  of(turnId: string): ServerEvent[] {
    return this.events.filter((e) => e.data.turn_id === turnId);
  }

  summary(): string {
    return this.events.map((e) => `${e.event}${e.data.turn_id ? `(${e.data.turn_id})` : ''}`).join(' ');
  }

  json(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Streams PCM in 40 ms frames at real-time pace; `stopWhen` ends it early (checked every frame). */
  async stream(pcm: Int16Array, stopWhen?: () => boolean): Promise<void> {
    const started = Date.now();
    for (const frame of pcmFrames(pcm, 40)) {
      if (stopWhen?.()) return;
      const due = started + samplesToMs(frame.offset);
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      this.socket.send(frame.bytes);
      this.sent += frame.bytes.byteLength / 2;
    }
  }

  /** Silence at real-time pace until `done` (or the limit). */
  async silenceUntil(done: () => boolean, limitMs = 30_000): Promise<void> {
    await this.stream(silencePcm(limitMs), done);
  }

  binary(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  close(): void {
    this.socket.close();
  }

  /** Closes and waits for the server's side to have closed too. */
  async closeAndWait(): Promise<void> {
    this.socket.close();
    await waitUntil(() => this.closed, 'the socket to close', 5000, 10);
  }
}

/** An upgrade the gateway must refuse: its HTTP status and JSON error body. */
export async function upgradeRefusal(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const outcome = await upgradeOutcome(url);
  if (outcome === 'upgraded') throw new Error(`the upgrade of ${url} was accepted`);
  return { status: outcome.status, body: outcome.body as Record<string, unknown> };
}
