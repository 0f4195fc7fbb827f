import type { SynthesizeStreamMessage } from '@parley/contracts';
import type { Observable } from 'rxjs';
import type { SpeechOptions } from '../conversation/turn/ports.js';

/** Speech as it is synthesized: 16-bit PCM chunks in order, then one `done`. Unsubscribing cancels. */
export interface SpeechStream {
  stream(text: string, options: SpeechOptions): Observable<SynthesizeStreamMessage>;
}

export const SPEECH_STREAM = Symbol('SPEECH_STREAM');
