import { ConsoleLogger } from '@nestjs/common';
import { JsonLogger, serviceLogger } from './json-logger.js';
import { runWithRequestId } from './request-context.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, stream: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } };
}

describe('the JSON logger', () => {
  it("writes one JSON line per message with the service, the component and the request's id", () => {
    const { lines, stream } = capture();
    const logger = new JsonLogger('llm', 'log', stream as never);
    logger.log('model loaded', 'llm-model');
    runWithRequestId('turn-7', () => logger.error('chat failed', 'Error: boom\n    at x', 'requests'));
    logger.debug('not at this level', 'requests');
    expect(lines).toEqual([
      { level: 'info', time: expect.any(String), service: 'llm', context: 'llm-model', msg: 'model loaded' },
      {
        level: 'error',
        time: expect.any(String),
        service: 'llm',
        context: 'requests',
        stack: 'Error: boom\n    at x',
        request_id: 'turn-7',
        msg: 'chat failed',
      },
    ]);
  });

  it('is the default; LOG_FORMAT=text gives NestJS text lines instead', () => {
    expect(serviceLogger('tts', {})).toBeInstanceOf(JsonLogger);
    expect(serviceLogger('tts', { LOG_FORMAT: 'text' })).toBeInstanceOf(ConsoleLogger);
  });
});
