import { Controller, Delete, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { learnerIdSchema, learnerVocabularyQuerySchema, parsePayload } from '@parley/contracts';
import type { Request, Response } from 'express';
import { EdgeAccess } from '../edge/edge-access.js';
import { LearnerProgressUseCase } from './learner-progress.use-case.js';
import type { LearnerRef } from './learner-store.port.js';

/** Learner progress routes of ../shared/API.md. */
@Controller('api/learners')
export class LearnersHttpController {
  constructor(
    @Inject(LearnerProgressUseCase) private readonly learners: LearnerProgressUseCase,
    @Inject(EdgeAccess) private readonly edge: EdgeAccess,
  ) {}

  @Get(':id')
  progress(@Param('id') id: string, @Req() req: Request) {
    return this.learners.progress(this.learner(id, req));
  }

  @Get(':id/vocabulary')
  async vocabulary(@Param('id') id: string, @Query() query: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const learner = this.learner(id, req);
    const learnerId = learner.id;
    const request = parsePayload(learnerVocabularyQuerySchema, query, 'query');
    const { words, csv } = await this.learners.vocabulary(learner, request);
    if (csv === undefined) return { learner_id: learnerId, ...(request.language ? { language: request.language } : {}), vocabulary: words, count: words.length };
    const name = ['parley-vocabulary', learnerId, request.language].filter(Boolean).join('-');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
    return csv;
  }

  @Delete(':id')
  async forget(@Param('id') id: string, @Req() req: Request) {
    const learner = this.learner(id, req);
    await this.learners.forget(learner);
    return { status: 'cleared', learner_id: learner.id };
  }

  /** The learner named in the URL, in the caller's key space (when keys are configured). */
  private learner(id: string, req: Request): LearnerRef {
    return { id: parsePayload(learnerIdSchema, id, 'learner id'), space: this.edge.clientOf(req)?.keyId };
  }
}
