/**
 * GET /openapi.json (the OpenAPI 3.1 document, with the JSON Schemas of schemas/json inlined so
 * that it stands alone) and GET /docs (Swagger UI, served from the swagger-ui-dist package).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';

const SCHEMAS_DIR = new URL('../../../schemas/', import.meta.url);

/** Replaces `{"$ref": "./json/x.schema.json"}` by the schema itself (its $defs keep working via its $id). */
export function loadOpenApiDocument(): Record<string, unknown> {
  const inline = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(inline);
    if (typeof node !== 'object' || node === null) return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('./json/')) {
      // The document's own dialect applies; an embedded `$schema` would only repeat it.
      const schema = JSON.parse(readFileSync(new URL(ref, SCHEMAS_DIR), 'utf8')) as Record<string, unknown>;
      delete schema.$schema;
      return schema;
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inline(v)]));
  };
  return inline(JSON.parse(readFileSync(new URL('openapi.json', SCHEMAS_DIR), 'utf8'))) as Record<string, unknown>;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Passerelle API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;
// In a file of its own so that the page needs no inline script (Content-Security-Policy: script-src 'self').
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });`;

export function openApiRoutes(): Router {
  const router = Router();
  const document = JSON.stringify(loadOpenApiDocument());
  const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  router.get(['/docs', '/docs/'], (_req, res) => {
    res.setHeader('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
    res.type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_INIT);
  });
  router.use('/docs/assets', express.static(swaggerDir, { index: false, maxAge: '1d' }));
  return router;
}
