import { explainFrameworkError } from './http-exception.filter.js';
import { parseRequestBody } from './request-body.js';
import { unknownVoiceError } from '../voices/voices.js';
import { textTurnRequestSchema } from '@parley/contracts';

describe('messages of the errors the framework finds', () => {
  it('say what is wrong and the limit, instead of the parser and multer wording', () => {
    expect(explainFrameworkError({ type: 'entity.parse.failed' }, 'Unexpected end of JSON input', 1)).toBe(
      'the request body is not valid JSON (a JSON object is expected): Unexpected end of JSON input',
    );
    expect(explainFrameworkError({ type: 'entity.too.large', length: 3000, limit: 1000 }, 'request entity too large', 1)).toMatch(
      /^the request body is too large: 3000 bytes, the limit is 1000 bytes/,
    );
    expect(explainFrameworkError({ code: 'LIMIT_FILE_SIZE' }, 'File too large', 25 * 2 ** 20)).toMatch(/the limit is 26214400 bytes \(25 MiB, UPLOAD_MAX_BYTES\)/);
    expect(explainFrameworkError({ code: 'LIMIT_UNEXPECTED_FILE', field: 'text' }, 'Unexpected file field', 1)).toMatch(/^unexpected file field 'text'/);
    expect(explainFrameworkError({ code: 'Z_DATA_ERROR' }, 'Bad Request', 1)).toMatch(/could not be decompressed.*Content-Encoding/);
    expect(explainFrameworkError(undefined, 'Cannot GET /x', 1)).toBeUndefined();
  });

  it('tells a caller whose body could not be read to send JSON', () => {
    expect(() => parseRequestBody(textTurnRequestSchema, undefined)).toThrow(/no body that can be read: send a JSON object with Content-Type: application\/json/);
    expect(parseRequestBody(textTurnRequestSchema, { message: 'Hola' }).message).toBe('Hola');
  });
});

describe('the voice of a streamed turn', () => {
  const resident = [{ id: 'tiny', languages: ['es'], sample_rate: 16000, speakers: 1 }];

  it('is refused when no tts-service has it loaded, naming the ones that are', () => {
    expect(unknownVoiceError('nobody', resident)?.message).toBe("Invalid request: voice: unknown voice 'nobody'; resident voices: tiny");
  });

  it('passes when loaded, not given, or when no tts-service answered (the turn reports speech itself)', () => {
    expect(unknownVoiceError('tiny', resident)).toBeUndefined();
    expect(unknownVoiceError(undefined, resident)).toBeUndefined();
    expect(unknownVoiceError('nobody', undefined)).toBeUndefined();
  });
});
