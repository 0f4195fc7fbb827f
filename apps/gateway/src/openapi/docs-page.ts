import type { buildOpenApiDocument } from './openapi-document.js';

type Document = ReturnType<typeof buildOpenApiDocument>;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pretty = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

/**
 * The OpenAPI document as a plain page (`/api/docs`): one collapsible entry per operation with its
 * request and answer schemas. Rendered on the server, without scripts or inline styles, so it
 * needs nothing from the Content-Security-Policy.
 */
export function renderDocsPage(document: Document): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const operation = op as {
        summary: string;
        requestBody?: { content: object };
        responses: Record<string, { description: string; content?: object }>;
        security?: unknown;
      };
      const responses = Object.entries(operation.responses)
        .map(
          ([status, response]) =>
            `<h4>${escape(status)}: ${escape(response.description)}</h4>${response.content ? pretty(response.content) : ''}`,
        )
        .join('');
      return `<details id="${escape(`${method}-${path}`)}"><summary><code>${method.toUpperCase()} ${escape(path)}</code> ${escape(operation.summary)}${operation.security ? ' <small>(API key)</small>' : ''}</summary>
${operation.requestBody ? `<h4>request</h4>${pretty(operation.requestBody.content)}` : ''}${responses}</details>`;
    }),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info.title)} API</title><link rel="stylesheet" href="/app.css"></head>
<body><main><h1>${escape(document.info.title)} API</h1><p>${escape(document.info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${escape(document.openapi)}).</p>
${operations.join('\n')}
</main></body></html>
`;
}
