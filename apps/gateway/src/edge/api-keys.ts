import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A key's identity: the start of its sha256, safe to log, store and compare (the key itself is never kept). */
export function apiKeyId(key: string): string {
  return sha256(key).toString('hex').slice(0, 16);
}

/**
 * The configured API keys, held only as sha256 digests (`sha256:<hex>` entries are taken as given,
 * so a deployment need never write a key in clear). A presented key is hashed and compared with
 * every digest in constant time, so neither timing nor the position of a match reveals anything.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(entries: readonly string[]) {
    this.digests = entries.map((entry, index) => {
      const hashed = /^sha256:(.*)$/i.exec(entry);
      if (!hashed) return sha256(entry);
      if (!/^[0-9a-f]{64}$/i.test(hashed[1]!)) {
        throw new Error(`PARLEY_API_KEYS entry ${index + 1} starts with sha256: but is not 64 hex digits`);
      }
      return Buffer.from(hashed[1]!, 'hex');
    });
  }

  /** False when no key is configured: then every route is open (the behaviour before keys). */
  get required(): boolean {
    return this.digests.length > 0;
  }

  /** The key's id when it is one of ours, else undefined. */
  identify(presented: string): string | undefined {
    const digest = sha256(presented);
    let match = false;
    // No early exit: every digest is compared whatever the outcome.
    for (const known of this.digests) match = timingSafeEqual(known, digest) || match;
    return match ? digest.toString('hex').slice(0, 16) : undefined;
  }
}

/** The WebSocket subprotocol a browser's OpenAI Realtime client carries its key in (browsers cannot set headers). */
export const KEY_SUBPROTOCOL_PREFIX = 'openai-insecure-api-key.';

/**
 * The key a request presents: `Authorization: Bearer <key>`, else `?api_key=`, else (WebSocket
 * upgrades from browsers, as the OpenAI SDK's `OpenAIRealtimeWebSocket` sends it) the
 * `openai-insecure-api-key.<key>` subprotocol.
 */
export function presentedApiKey(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (bearer) return bearer;
  const query = new URL(req.url ?? '/', 'http://gateway').searchParams.get('api_key');
  if (query) return query;
  const protocols = req.headers['sec-websocket-protocol'];
  const carried = (typeof protocols === 'string' ? protocols.split(',') : [])
    .map((p) => p.trim())
    .find((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX));
  return carried ? carried.slice(KEY_SUBPROTOCOL_PREFIX.length) || undefined : undefined;
}

/** The URL with the value of any `api_key` parameter replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]api_key=)[^&#]*/gi, '$1[redacted]');
}
