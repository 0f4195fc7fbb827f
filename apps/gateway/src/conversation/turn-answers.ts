import {
  ParleyError,
  type SpeakTurnResponse,
  type TextTurnResponse,
  type TranscribeHttpResponse,
  type Transcription,
  type TurnEvent,
  type TurnEventMap,
  type TurnFeedbackFields,
} from '@parley/contracts';
import { map, reduce, type Observable } from 'rxjs';

/** What a finished turn amounts to, for transports that answer once (the blocking JSON routes). */
export interface TurnResult {
  complete: TurnEventMap['complete'];
  transcription?: TurnEventMap['transcription'];
  feedback?: TurnEventMap['feedback'];
}

/**
 * Folds a turn's events into its result; a turn that ended in an `error` event fails with that
 * error (the HTTP layer maps its code to a status). Audio, if any, is not part of the result.
 */
export function turnResult(events: Observable<TurnEvent>): Observable<TurnResult> {
  return events.pipe(
    reduce<TurnEvent, Partial<TurnResult>>((result, event) => {
      if (event.event === 'error') throw new ParleyError(event.data.code, event.data.error);
      if (event.event === 'transcription') return { ...result, transcription: event.data };
      if (event.event === 'complete') return { ...result, complete: event.data };
      if (event.event === 'feedback') return { ...result, feedback: event.data };
      return result;
    }, {}),
    map((result) => {
      if (!result.complete) throw new ParleyError('INTERNAL', 'the turn ended without a result');
      return result as TurnResult;
    }),
  );
}

/** The turn's feedback, or why there is none, when it asked for feedback. */
function feedbackFields({ complete, feedback }: TurnResult): TurnFeedbackFields {
  if (feedback) return { feedback };
  return complete.feedback_error ? { feedback_error: complete.feedback_error } : {};
}

export function textTurnResponse(result: TurnResult): TextTurnResponse {
  const { complete } = result;
  return { response: complete.full_response, language: complete.language, session_id: complete.session_id, ...feedbackFields(result) };
}

export function speakTurnResponse(result: TurnResult): SpeakTurnResponse {
  const { complete, transcription } = result;
  return {
    ...feedbackFields(result),
    response: complete.full_response,
    language: complete.language,
    detected_language: transcription?.language ?? null,
    transcribed_text: transcription?.text ?? '',
    session_id: complete.session_id,
  };
}

export function transcribeResponse(transcription: Transcription): TranscribeHttpResponse {
  const { text, language, language_probability, segments } = transcription;
  return { text, language, language_probability, segments };
}
