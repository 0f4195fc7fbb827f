import { fileURLToPath } from 'node:url';
import { DEFAULT_SHUTDOWN_GRACE_MS, envInt } from '@parley/service-kit';
import { loadEdgeConfig, type EdgeConfig } from './edge/edge-config.js';

export interface GatewayConfig {
  port: number;
  /** Most recent turns (a user message and its answer) sent to the LLM with each new message. */
  historyTurns: number;
  /** Messages kept per stored session (older ones are dropped). */
  sessionMaxMessages: number;
  /** A session is forgotten this long after its last turn. */
  sessionTtlSeconds: number;
  sessionBucket: string;
  /** JetStream KV bucket of learners' progress (kept until a learner is deleted). */
  learnerBucket: string;
  llmMaxTokens: number;
  llmFirstReplyTimeoutMs: number;
  llmIdleTimeoutMs: number;
  /** Token budget of a turn's feedback (JSON bounded by the feedback schema). */
  feedbackMaxTokens: number;
  /** A turn's feedback that takes longer is dropped (`complete.feedback_error`). */
  feedbackTimeoutMs: number;
  /** Requests that start work (POST) per API key, or per client address without keys, per minute, shared by every replica; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Who may call the gateway, from where, how often (API keys, CORS, trusted proxies, caps). */
  edge: EdgeConfig;
  /** Largest upload accepted (bytes). */
  uploadMaxBytes: number;
  /** ffmpeg, which encodes /v1/audio/speech as mp3, opus, aac or flac (FFMPEG_BIN). */
  ffmpegPath: string;
  sttTimeoutMs: number;
  ttsFirstReplyTimeoutMs: number;
  ttsIdleTimeoutMs: number;
  /**
   * A model service working on a request sends a heartbeat every 400 ms; this long without one
   * (or any reply) and its replica is taken for dead: the turn ends with TIMEOUT at once instead
   * of after the first-reply timeout.
   */
  serviceLivenessTimeoutMs: number;
  /** How long /api/health/models waits for each service. */
  healthTimeoutMs: number;
  /** Running on the tiny generated demo models (PARLEY_DEMO=1, set by `npm start` in demo mode): the page says so. */
  demo: boolean;
  /** Where the web client's files are served from (empty: none).  */
  publicDir: string;
  /** A live socket with no audio and no message for this long is closed (1000). */
  liveIdleTimeoutMs: number;
  /** The stt-service's live stream: silence this long (it sends heartbeats every second) means its replica is gone. */
  liveSttTimeoutMs: number;
  /**
   * On SIGTERM, how long the turns under way (streams, blocking turns, live sockets) may take to
   * finish before they are ended with an error (SHUTDOWN_GRACE_MS, 25 s: inside Kubernetes' default
   * 30 s terminationGracePeriod, leaving time to close).
   */
  shutdownGraceMs: number;
  /** On shutdown, how long a turn in progress may take to finish before its socket is closed (1012) anyway. */
  liveShutdownGraceMs: number;
  /** TLS_CERT / TLS_KEY (PEM files): serve HTTPS and WSS (browsers give the microphone only to secure pages). */
  tls?: { certPath: string; keyPath: string };
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const read = (name: string, fallback: number, range?: { min?: number; max?: number }) =>
    envInt(name, fallback, range, env);
  const shutdownGraceMs = read('SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, { min: 0, max: 600_000 });
  return {
    port: read('PORT', 8000, { min: 0, max: 65535 }),
    historyTurns: read('HISTORY_TURNS', 10, { min: 0, max: 50 }),
    sessionMaxMessages: read('SESSION_MAX_MESSAGES', 200, { min: 2 }),
    sessionTtlSeconds: read('SESSION_TTL_SECONDS', 7 * 24 * 3600),
    sessionBucket: env.SESSION_BUCKET || 'parley_sessions',
    learnerBucket: env.LEARNER_BUCKET || 'parley_learners',
    llmMaxTokens: read('LLM_MAX_TOKENS', 200, { max: 2048 }),
    llmFirstReplyTimeoutMs: read('LLM_FIRST_REPLY_TIMEOUT_MS', 30_000),
    llmIdleTimeoutMs: read('LLM_IDLE_TIMEOUT_MS', 15_000),
    feedbackMaxTokens: read('FEEDBACK_MAX_TOKENS', 1024, { min: 64, max: 2048 }),
    feedbackTimeoutMs: read('FEEDBACK_TIMEOUT_MS', 30_000),
    rateLimitPerMinute: read('RATE_LIMIT_PER_MINUTE', 120, { min: 0 }),
    edge: loadEdgeConfig(env),
    uploadMaxBytes: read('UPLOAD_MAX_BYTES', 25 * 1024 * 1024),
    ffmpegPath: env.FFMPEG_BIN || 'ffmpeg',
    sttTimeoutMs: read('STT_TIMEOUT_MS', 60_000),
    ttsFirstReplyTimeoutMs: read('TTS_FIRST_REPLY_TIMEOUT_MS', 20_000),
    ttsIdleTimeoutMs: read('TTS_IDLE_TIMEOUT_MS', 10_000),
    serviceLivenessTimeoutMs: read('SERVICE_LIVENESS_TIMEOUT_MS', 1_500, { min: 500 }),
    healthTimeoutMs: read('HEALTH_TIMEOUT_MS', 1_500),
    demo: env.PARLEY_DEMO === '1',
    // The web client shipped with the gateway (apps/gateway/public), unless PUBLIC_DIR says otherwise.
    publicDir: env.PUBLIC_DIR ?? fileURLToPath(new URL('../public', import.meta.url)),
    liveIdleTimeoutMs: read('LIVE_IDLE_TIMEOUT_S', 300, { min: 1 }) * 1000,
    liveSttTimeoutMs: read('LIVE_STT_TIMEOUT_MS', 3_000, { min: 500 }),
    shutdownGraceMs,
    liveShutdownGraceMs: read('LIVE_SHUTDOWN_GRACE_MS', shutdownGraceMs, { min: 0 }),
    tls: tlsFiles(env),
  };
}

function tlsFiles(env: NodeJS.ProcessEnv): GatewayConfig['tls'] {
  const certPath = env.TLS_CERT || undefined;
  const keyPath = env.TLS_KEY || undefined;
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw new Error('TLS_CERT and TLS_KEY must be set together (PEM certificate and its private key)');
  return { certPath, keyPath };
}
