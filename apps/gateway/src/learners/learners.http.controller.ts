import { Controller, Delete, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { learnerIdSchema, learnerVocabularyQuerySchema, parsePayload } from '@parley/contracts';
import type { Response } from 'express';
import { LearnerProgressUseCase } from './learner-progress.use-case.js';

/** Learner progress routes of ../shared/API.md. */
@Controller('api/learners')
export class LearnersHttpController {
  constructor(@Inject(LearnerProgressUseCase) private readonly learners: LearnerProgressUseCase) {}

  @Get(':id')
  progress(@Param('id') id: string) {
    return this.learners.progress(parsePayload(learnerIdSchema, id, 'learner id'));
  }

  @Get(':id/vocabulary')
  async vocabulary(@Param('id') id: string, @Query() query: unknown, @Res({ passthrough: true }) res: Response) {
    const learnerId = parsePayload(learnerIdSchema, id, 'learner id');
    const request = parsePayload(learnerVocabularyQuerySchema, query, 'query');
    const { words, csv } = await this.learners.vocabulary(learnerId, request);
    if (csv === undefined)
      return {
        learner_id: learnerId,
        ...(request.language ? { language: request.language } : {}),
        vocabulary: words,
        count: words.length,
      };
    const name = ['parley-vocabulary', learnerId, request.language].filter(Boolean).join('-');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
    return csv;
  }

  @Delete(':id')
  async forget(@Param('id') id: string) {
    const learnerId = parsePayload(learnerIdSchema, id, 'learner id');
    await this.learners.forget(learnerId);
    return { status: 'cleared', learner_id: learnerId };
  }
}
