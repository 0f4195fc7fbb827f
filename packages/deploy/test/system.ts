import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LANGUAGE_CODES, type MetricService } from '@parley/contracts';
import { writeTinyGguf } from '@parley/models/fixtures/gguf';
import { writeTinyPiperVoice } from '@parley/models/fixtures/piper';
import { writeTinyWhisperModel } from '@parley/models/fixtures/whisper';
import { freePort, spawnService, startNatsServer, waitForPort, waitUntil, type SpawnedService, type TestNatsServer } from '@parley/service-kit/testing';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const MAINS: Record<MetricService, string> = {
  gateway: join(ROOT, 'apps/gateway/dist/main.js'),
  llm: join(ROOT, 'apps/llm-service/dist/main.js'),
  stt: join(ROOT, 'apps/stt-service/dist/main.js'),
  tts: join(ROOT, 'apps/tts-service/dist/main.js'),
};

export interface RunningService {
  service: MetricService;
  process: SpawnedService;
  /** The port serving /metrics, /healthz and /readyz (the API port for the gateway). */
  httpPort: number;
}

/** The four services as built processes on generated models, against the given broker. */
export async function startParley(natsUrl: string, dir: string, logLevel = 'warn'): Promise<RunningService[]> {
  for (const [service, main] of Object.entries(MAINS)) {
    if (!existsSync(main)) throw new Error(`${service} is not built (${main}): run npx turbo run build first`);
  }
  const gguf = await writeTinyGguf(join(dir, 'tiny.gguf'));
  await writeTinyWhisperModel(join(dir, 'whisper.bin'));
  await writeTinyPiperVoice(join(dir, 'voice'));
  const voices = [
    {
      id: 'tiny-voice',
      languages: LANGUAGE_CODES,
      model: join(dir, 'voice', 'model.onnx'),
      tokens: join(dir, 'voice', 'tokens.txt'),
    },
  ];
  const env: Record<MetricService, (port: number) => Record<string, string>> = {
    llm: (port) => ({ LLM_MODEL_PATH: gguf.path, LLM_THREADS: '1', LLM_HTTP_PORT: String(port) }),
    stt: (port) => ({ STT_MODEL_PATH: join(dir, 'whisper.bin'), STT_THREADS: '1', STT_HTTP_PORT: String(port) }),
    tts: (port) => ({ TTS_VOICES: JSON.stringify(voices), TTS_THREADS: '1', TTS_HTTP_PORT: String(port) }),
    gateway: (port) => ({ PORT: String(port), RATE_LIMIT_PER_MINUTE: '0', LLM_MAX_TOKENS: '40' }),
  };
  const running: RunningService[] = [];
  for (const service of ['llm', 'stt', 'tts', 'gateway'] as const) {
    const httpPort = await freePort();
    const process = spawnService(`${service}-service`, MAINS[service], {
      NATS_URL: natsUrl,
      LOG_LEVEL: logLevel,
      ...env[service](httpPort),
    });
    running.push({ service, process, httpPort });
  }
  return running;
}

export interface ReadyParley {
  nats: TestNatsServer;
  /** A scratch directory (generated models, the WAVs below), removed by stop(). */
  dir: string;
  services: RunningService[];
  gatewayUrl: string;
  /** An espeak-ng sentence and 1.5 s of silence, as WAV files' bytes. */
  speechWav: Uint8Array;
  silenceWav: Uint8Array;
  stop(): Promise<void>;
}

/** A private broker and the four services, every one ready (/readyz); on failure, their logs. */
export async function startReadyParley(logLevel = 'warn'): Promise<ReadyParley> {
  const nats = await startNatsServer();
  const dir = await mkdtemp(join(tmpdir(), 'parley-deploy-'));
  run('espeak-ng', ['-w', join(dir, 'speech.wav'), 'Hello! My name is Anna. I would like a coffee, please.']);
  run('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', join(dir, 'silence.wav'), 'trim', '0', '1.5']);
  const services = await startParley(nats.url, dir, logLevel);
  const stop = async () => {
    await Promise.all(services.map((s) => s.process.stop()));
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const allReady = async () =>
    (await Promise.all(services.map(async (s) => (await fetch(`http://127.0.0.1:${s.httpPort}/readyz`)).ok))).every(Boolean);
  await waitUntil(allReady, 'every service ready', 90_000, 200).catch(async (error) => {
    const logs = logsOf(services);
    await stop();
    throw new Error(`${String(error)}\n${logs}`);
  });
  return {
    nats,
    dir,
    services,
    gatewayUrl: `http://127.0.0.1:${services.find((s) => s.service === 'gateway')!.httpPort}`,
    speechWav: await readFile(join(dir, 'speech.wav')),
    silenceWav: await readFile(join(dir, 'silence.wav')),
    stop,
  };
}

export function logsOf(services: RunningService[]): string {
  return services.map((s) => `--- ${s.service}\n${s.process.output()}`).join('\n');
}

export interface TestPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** A real Prometheus scraping each service every second, with the project's rules loaded. */
export async function startPrometheus(
  dir: string,
  services: RunningService[],
  rulesFile: string,
): Promise<TestPrometheus> {
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [rulesFile],
    scrape_configs: services.map(({ service, httpPort }) => ({
      job_name: service,
      // The services label their own series with `service`; `up` gets it from the target.
      honor_labels: true,
      static_configs: [{ targets: [`127.0.0.1:${httpPort}`], labels: { service } }],
    })),
  };
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config));
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let output = '';
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForPort(port, 20_000);
    await waitUntil(async () => (await fetch(`${url}/-/ready`)).ok, 'Prometheus ready', 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`prometheus did not start (apt-get install prometheus): ${String(error)}\n${output}`, {
      cause: error,
    });
  }
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface PromResult {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

export async function instantQuery(prometheusUrl: string, query: string): Promise<PromResult> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query })}`);
  return (await res.json()) as PromResult;
}

/** Runs a command (argument array, no shell) and fails loudly with its output. */
export function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`,
    );
}
