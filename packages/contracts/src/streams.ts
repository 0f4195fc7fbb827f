/**
 * A service working on a streaming request sends this on the request's reply stream every
 * STREAM_HEARTBEAT_INTERVAL_MS, from the moment it receives the request until it ends (while
 * queued, while the model thinks before its first token). The caller can then tell a replica
 * that died (no heartbeat for a few intervals: seconds) from one that is slow (heartbeats, no
 * reply yet: the first-reply timeout still applies). Callers drop heartbeats before parsing.
 */
export const STREAM_HEARTBEAT = { heartbeat: true } as const;
export type StreamHeartbeat = typeof STREAM_HEARTBEAT;
export const STREAM_HEARTBEAT_INTERVAL_MS = 400;

export function isStreamHeartbeat(value: unknown): value is StreamHeartbeat {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { heartbeat?: unknown }).heartbeat === true &&
    Object.keys(value).length === 1
  );
}
