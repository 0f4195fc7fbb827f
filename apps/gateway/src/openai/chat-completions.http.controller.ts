import { Body, Controller, Inject, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { chatCompletionRequestSchema, ParleyError, type ChatCompletionRequest } from '@parley/contracts';
import { toArray } from 'rxjs';
import { errorBodyFor } from '../http/error-body.js';
import { lastValueWhileConnected } from '../http/while-connected.js';
import { ChatCompletionsUseCase, type CompletionEvent } from './chat-completions.use-case.js';
import { openDataStream } from './data-stream.js';
import { parseRequestBody } from '../http/request-body.js';

interface CompletionIdentity {
  id: string;
  created: number;
  model: string;
}

/** POST /v1/chat/completions: OpenAI's chat completion, whole or streamed as `chat.completion.chunk`s. */
@Controller('v1')
export class ChatCompletionsHttpController {
  constructor(@Inject(ChatCompletionsUseCase) private readonly completions: ChatCompletionsUseCase) {}

  @Post('chat/completions')
  async create(@Body() body: unknown, @Res() res: Response): Promise<void> {
    const request = parseRequestBody(chatCompletionRequestSchema, body);
    const identity = { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model: request.model };
    if (request.stream) return this.stream(request, identity, res);
    const events = await lastValueWhileConnected(res, this.completions.complete(request).pipe(toArray()));
    const done = events.at(-1);
    if (done?.type !== 'done') throw new ParleyError('INTERNAL', 'the completion ended without a result');
    const content = events.map((event) => (event.type === 'delta' ? event.text : '')).join('');
    res.status(200).json({
      ...identity,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          finish_reason: done.finishReason,
          logprobs: null,
        },
      ],
      usage: done.usage,
    });
  }

  /** Streams `chat.completion.chunk`s: the role first, the text as generated, the finish reason, usage if asked, `[DONE]`. */
  private stream(request: ChatCompletionRequest, identity: CompletionIdentity, res: Response): void {
    const includeUsage = request.stream_options?.include_usage === true;
    const chunk = (choices: object[], extra: object = {}) => ({
      ...identity,
      object: 'chat.completion.chunk',
      choices,
      ...extra,
    });
    const stream = openDataStream(res);
    stream.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }]));
    stream.follow(this.completions.complete(request), {
      next: (event: CompletionEvent) => {
        if (event.type === 'delta') {
          stream.write(chunk([{ index: 0, delta: { content: event.text }, finish_reason: null, logprobs: null }]));
          return;
        }
        stream.write(chunk([{ index: 0, delta: {}, finish_reason: event.finishReason, logprobs: null }]));
        if (includeUsage) stream.write(chunk([], { usage: event.usage }));
        stream.done();
      },
      error: (error: unknown) => {
        const failure = ParleyError.from(error);
        // OpenAI's clients read an `error` object in the stream as a failed request.
        stream.fail(errorBodyFor('/v1', 500, failure.code, failure.message));
      },
    });
  }
}
