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

/** The key a request presents: `Authorization: Bearer <key>`, else `?api_key=` (for WebSocket clients that cannot set headers). */
export function presentedApiKey(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (bearer) return bearer;
  const query = new URL(req.url ?? '/', 'http://gateway').searchParams.get('api_key');
  return query || undefined;
}

/** The URL with the value of any `api_key` parameter replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]api_key=)[^&#]*/gi, '$1[redacted]');
}
