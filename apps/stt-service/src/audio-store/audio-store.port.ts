/** Where uploaded audio waits for the stt-service (NATS messages are limited to 1 MB). */
export interface AudioStore {
  /** The object's bytes; NOT_FOUND if it does not exist, PAYLOAD_TOO_LARGE beyond `maxBytes`. */
  read(name: string, maxBytes: number): Promise<Uint8Array>;
  /** Deletes the object; a missing object is not an error. */
  remove(name: string): Promise<void>;
}

export const AUDIO_STORE = Symbol('AUDIO_STORE');
