import { Controller, Get, Header } from '@nestjs/common';
import { API_ROUTES } from './api-routes.js';
import { renderDocsPage } from './docs-page.js';
import { buildOpenApiDocument } from './openapi-document.js';

/** GET /api/openapi.json and /api/docs: the API described from the schemas it validates with. */
@Controller('api')
export class OpenApiHttpController {
  private readonly document = buildOpenApiDocument(API_ROUTES);
  private readonly page = renderDocsPage(this.document);

  @Get('openapi.json')
  openApi() {
    return this.document;
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  docs(): string {
    return this.page;
  }
}
