import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { freePort } from '@parley/service-kit';
import { ParleyError } from '@parley/contracts';

export interface WhisperServerProcessOptions {
  index: number;
  binary: string;
  modelPath: string;
  threads: number;
  /** How long a start (model load) may take before the child is killed. */
  startTimeoutMs: number;
  onReady: (info: { pid: number; loadMs: number; reload: boolean }) => void;
  onExit: (info: { pid: number; reason: string }) => void;
  onRestartScheduled: (info: { attempt: number; delayMs: number }) => void;
}

export interface InferenceResponse {
  status: number;
  body: string;
}

type State = 'stopped' | 'starting' | 'ready' | 'waiting-restart' | 'stopping';

const MAX_RESTART_DELAY_MS = 10_000;


/**
 * util-linux's setpriv (on every Debian/Ubuntu system) makes the kernel kill whisper-server if
 * this process dies without stopping it (SIGKILL, OOM): no orphan keeps the model in memory.
 * It execs the server in place, so the pid stays the server's. Without setpriv, spawn directly.
 */
const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = existsSync(SETPRIV);
function withParentDeathSignal(binary: string, args: string[]): [string, string[]] {
  return hasSetpriv ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A transport-level failure (the child died or is not listening), as opposed to an HTTP answer. */
export class ConnectionFailure extends Error {
  override name = 'ConnectionFailure';
}

/**
 * One supervised whisper-server child: started with an argument array, bound to 127.0.0.1 on a
 * free port, ready once GET /health answers 200. If it dies after its first start it is started
 * again (with backoff after failed attempts); callers wait for `whenReady()` meanwhile.
 */
export class WhisperServerProcess {
  private readonly logger: Logger;
  private state: State = 'stopped';
  private child?: ChildProcess;
  private port = 0;
  private everReady = false;
  private failedAttempts = 0;
  private readyWaiters: Array<() => void> = [];
  private outputTail: string[] = [];
  busy = false;

  constructor(private readonly options: WhisperServerProcessOptions) {
    this.logger = new Logger(`whisper-server#${options.index}`);
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** First start: rejects if the model does not load (no retries: a broken model stays broken). */
  async start(): Promise<void> {
    await this.spawnAndWait();
  }

  /** Resolves when the child is ready; rejects on abort or at the deadline. */
  whenReady(signal: AbortSignal, deadline: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'stopping' || this.state === 'stopped') {
      return Promise.reject(new ParleyError('SERVICE_UNAVAILABLE', 'the speech recogniser is shutting down'));
    }
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.readyWaiters = this.readyWaiters.filter((w) => w !== onReady);
      };
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onAbort = () => {
        cleanup();
        reject(new ParleyError('CANCELLED', 'cancelled while the speech recogniser was restarting'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new ParleyError('TIMEOUT', 'the speech recogniser is restarting and was not ready in time'));
      }, Math.max(0, deadline - Date.now()));
      signal.addEventListener('abort', onAbort, { once: true });
      this.readyWaiters.push(onReady);
    });
  }

  /**
   * POSTs one multipart body to /inference on a fresh connection (whisper-server drops idle
   * keep-alive sockets after ~5 s). Aborting closes the connection, which whisper-server notices
   * and uses to abort its inference.
   */
  async infer(body: Uint8Array, contentType: string, signal: AbortSignal, deadline: number): Promise<InferenceResponse> {
    if (this.state !== 'ready') throw new ConnectionFailure('whisper-server is not running');
    const port = this.port;
    return new Promise<InferenceResponse>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/inference',
          method: 'POST',
          agent: false,
          headers: { 'content-type': contentType, 'content-length': body.length, connection: 'close' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })));
          res.on('error', (error) => finish(() => reject(new ConnectionFailure(error.message))));
        },
      );
      const onAbort = () => {
        finish(() => reject(new ParleyError('CANCELLED', 'transcription cancelled')));
        req.destroy();
      };
      const timer = setTimeout(() => {
        finish(() => reject(new ParleyError('TIMEOUT', 'whisper-server did not answer in time')));
        req.destroy();
        // A child that overran its deadline is treated as wedged: replace it.
        this.logger.warn(`request overran its deadline; restarting pid ${this.child?.pid}`);
        this.child?.kill('SIGKILL');
      }, Math.max(0, deadline - Date.now()));
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => finish(() => reject(new ConnectionFailure(error.message))));
      req.end(body);
    });
  }

  /** After a connection failure: gives the exit event a moment to arrive, so `whenReady` waits for the restart. */
  async settleAfterFailure(): Promise<void> {
    for (let i = 0; i < 20 && this.state === 'ready'; i++) {
      if (this.child && (this.child.exitCode !== null || this.child.signalCode !== null)) return;
      await sleep(25);
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopping';
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  /** Synchronous last resort on process exit: never leave a model process behind. */
  killNow(): void {
    this.state = 'stopping';
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  output(): string {
    return this.outputTail.join('\n');
  }

  private async spawnAndWait(): Promise<void> {
    const reload = this.everReady;
    this.state = 'starting';
    this.port = await freePort();
    const args = [
      '--model', this.options.modelPath,
      '--host', '127.0.0.1',
      '--port', String(this.port),
      '--threads', String(this.options.threads),
      '--processors', '1',
    ];
    const started = performance.now();
    const [command, commandArgs] = withParentDeathSignal(this.options.binary, args);
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.outputTail = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        this.outputTail.push(line);
        if (this.outputTail.length > 60) this.outputTail.shift();
        this.logger.debug(line);
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.once('exit', (code, signal) => this.onChildExit(child, code, signal));

    const deadline = Date.now() + this.options.startTimeoutMs;
    for (;;) {
      if ((this.state as State) === 'stopping') throw new Error('stopped while starting');
      if (spawnError) throw new Error(`cannot start ${this.options.binary}: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `whisper-server exited during start-up (${child.signalCode ?? `exit code ${child.exitCode}`}):\n${this.output().slice(-1500)}`,
        );
      }
      if ((await this.healthStatus()) === 200) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`whisper-server was not healthy after ${this.options.startTimeoutMs} ms:\n${this.output().slice(-1500)}`);
      }
      await sleep(50);
    }
    const loadMs = Math.round(performance.now() - started);
    this.state = 'ready';
    this.everReady = true;
    this.failedAttempts = 0;
    this.logger.log(`${reload ? 'restarted' : 'started'}: pid ${child.pid}, port ${this.port}, ${this.options.threads} threads, model loaded in ${loadMs} ms`);
    this.options.onReady({ pid: child.pid!, loadMs, reload });
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private healthStatus(): Promise<number> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: this.port, path: '/health', agent: false, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(0));
      req.end();
    });
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    const reason = signal ? `killed by ${signal}` : `exit code ${code}`;
    if (this.state === 'stopping' || this.state === 'stopped') return;
    // A child that fails while starting is handled by whoever is starting it (load or restart loop).
    if (this.state !== 'ready') return;
    this.logger.error(`pid ${child.pid} died (${reason}); restarting it. Last output:\n${this.output().slice(-800)}`);
    this.options.onExit({ pid: child.pid ?? 0, reason });
    void this.restartLoop();
  }

  private async restartLoop(): Promise<void> {
    for (;;) {
      if (this.state === 'stopping' || this.state === 'stopped') return;
      const delayMs = this.failedAttempts === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** (this.failedAttempts - 1));
      this.state = 'waiting-restart';
      this.options.onRestartScheduled({ attempt: this.failedAttempts + 1, delayMs });
      if (delayMs) await sleep(delayMs);
      if (this.state !== 'waiting-restart') return;
      try {
        await this.spawnAndWait();
        return;
      } catch (error) {
        if ((this.state as State) === 'stopping') return;
        this.failedAttempts += 1;
        this.logger.error(`restart attempt ${this.failedAttempts} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
