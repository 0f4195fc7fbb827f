import { readFileSync } from 'node:fs';
import { envInt } from '@parley/service-kit';

/** The settings of the gateway's public edge: who may call it, from where, and how often. */
export interface EdgeConfig {
  /**
   * Proxies whose `X-Forwarded-For` is believed (addresses, CIDR ranges, or `loopback`,
   * `linklocal`, `uniquelocal`). Empty: the socket's peer is the client.
   */
  trustedProxies: string[];
  /** API keys (plain or `sha256:<hex>`); empty: no key is needed. */
  apiKeys: string[];
  /** Browser origins allowed besides the page's own, localhost and 127.0.0.1 (`*`: any). */
  corsOrigins: string[];
  /** JetStream key-value bucket holding the rate-limit counters. */
  rateLimitBucket: string;
  /** Past this wait for the counter store, the request is let through (fail open). */
  rateLimitStoreTimeoutMs: number;
  /** Streams (SSE turns, streamed completions, speech) one client may have open at once on this replica; 0: no cap. */
  maxStreamsPerClient: number;
}

/** A comma- or newline-separated list; blank entries and `#` comments dropped. */
export function parseList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(/[,\n]/)
    .map((entry) => entry.replace(/#.*$/, '').trim())
    .filter(Boolean);
}

export function loadEdgeConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  const keysFile = env.PARLEY_API_KEYS_FILE;
  let fileKeys: string[] = [];
  if (keysFile) {
    try {
      fileKeys = parseList(readFileSync(keysFile, 'utf8'));
    } catch (error) {
      throw new Error(`PARLEY_API_KEYS_FILE=${keysFile} cannot be read: ${(error as Error).message}`, { cause: error });
    }
    if (fileKeys.length === 0)
      throw new Error(`PARLEY_API_KEYS_FILE=${keysFile} holds no key: refusing to start open by mistake.`);
  }
  return {
    trustedProxies: parseList(env.TRUSTED_PROXIES),
    apiKeys: [...parseList(env.PARLEY_API_KEYS), ...fileKeys],
    corsOrigins: parseList(env.CORS_ORIGINS),
    rateLimitBucket: env.RATE_LIMIT_BUCKET || 'parley_rate_limits',
    rateLimitStoreTimeoutMs: envInt('RATE_LIMIT_STORE_TIMEOUT_MS', 500, { min: 10 }, env),
    maxStreamsPerClient: envInt('MAX_STREAMS_PER_CLIENT', 4, { min: 0 }, env),
  };
}
