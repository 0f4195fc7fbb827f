import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { freePort } from './ports.js';

export { freePort };
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on port ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export interface TestNatsServer {
  url: string;
  port: number;
  /** The server's HTTP monitoring endpoint (/connz, /subsz), when started with `monitor: true`. */
  monitorUrl?: string;
  stop(): Promise<void>;
  /** Kills the server (SIGKILL: an outage, not a shutdown); its JetStream store stays for `start`. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same JetStream store (after `kill`). */
  start(): Promise<void>;
}

/**
 * Starts a private nats-server with JetStream on a free port: each test suite gets its own broker
 * and never depends on one that happens to run on the machine.
 */
export async function startNatsServer(options: { monitor?: boolean } = {}): Promise<TestNatsServer> {
  const port = await freePort();
  const monitorPort = options.monitor ? await freePort() : undefined;
  const storeDir = mkdtempSync(join(tmpdir(), 'parley-nats-'));
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = async () => {
    child = spawn(
      process.env.NATS_SERVER_BIN ?? 'nats-server',
      ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...(monitorPort ? ['-m', String(monitorPort)] : [])],
      {
        stdio: 'ignore',
      },
    );
    const running = child;
    exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.once('error', () => undefined);
    try {
      await waitForPort(port);
    } catch (error) {
      running.kill('SIGKILL');
      throw new Error(`nats-server did not start (is it installed? apt-get install nats-server): ${String(error)}`, {
        cause: error,
      });
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    ...(monitorPort ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}),
    stop: async () => {
      await halt('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
    kill: () => halt('SIGKILL'),
    start: launch,
  };
}

export interface SpawnedService {
  name: string;
  child: ChildProcess;
  /** Everything the process printed so far (shown when a test fails). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM (or the given signal), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a built service (`node <script>`) as a child process with extra environment. */
export function spawnService(name: string, script: string, env: Record<string, string>): SpawnedService {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    output: () => output,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Polls `probe` until it returns a truthy value or the time is up. */
export async function waitUntil<T>(
  probe: () => Promise<T> | T,
  what: string,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Reads one metric's value from a Prometheus text exposition (sum over matching label sets). */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[3] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`)))
      total += Number(match[4]);
  }
  return total;
}
