/**
 * NATS subjects, versioned so that a breaking payload change gets a new subject and old and new
 * replicas can run side by side during a rollout. These names also appear in logs and metrics.
 */
import type { ServiceName } from './services.js';

export const SUBJECT_PREFIX = 'parley.v1';

export const SUBJECTS = {
  llm: {
    /** Streaming chat: ChatRequest in, ChatStreamMessage* out. */
    chat: `${SUBJECT_PREFIX}.llm.chat`,
    health: `${SUBJECT_PREFIX}.llm.health`,
  },
  stt: {
    transcribe: `${SUBJECT_PREFIX}.stt.transcribe`,
    health: `${SUBJECT_PREFIX}.stt.health`,
  },
  tts: {
    synthesize: `${SUBJECT_PREFIX}.tts.synthesize`,
    health: `${SUBJECT_PREFIX}.tts.health`,
    /** The resident voices: {} in, TtsVoicesReply out. */
    voices: `${SUBJECT_PREFIX}.tts.voices`,
  },
} as const;

/**
 * The per-request cancel subject. The replica that handles a request subscribes to it outside any
 * queue group, so the cancel reaches exactly the replica doing the work (an @EventPattern would
 * inherit the queue group and reach a random replica).
 */
export function cancelSubject(service: ServiceName, requestId: string): string {
  return `${SUBJECT_PREFIX}.${service}.cancel.${requestId}`;
}

/** Queue group per service: N replicas share requests, each request is handled once. */
export function queueGroup(service: ServiceName): string {
  return `parley-${service}`;
}
