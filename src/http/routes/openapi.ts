/**
 * GET /openapi.json (the OpenAPI 3.1 document, with the JSON Schemas of schemas/json inlined so
 * that it stands alone) and GET /docs (Swagger UI, served from the swagger-ui-dist package).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';

const SCHEMAS_DIR = new URL('../../../schemas/', import.meta.url);
const FIXTURES_DIR = new URL('../../../fixtures/act-reports/', import.meta.url);

/**
 * The OpenAPI document with the JSON Schemas of schemas/json inlined so that it stands alone. Each
 * schema's `$defs` become components of their own (`ActReport.patient`…) and its refs are
 * rewritten to them: documentation tools resolve `#/components/schemas/…` but not refs relative to
 * a schema's own `$id`.
 */
export function loadOpenApiDocument(): Record<string, unknown> {
  const document = readJson(new URL('openapi.json', SCHEMAS_DIR));
  const components = (document.components as { schemas: Record<string, unknown> }).schemas;
  for (const [name, entry] of Object.entries(components)) {
    const ref = (entry as { $ref?: unknown }).$ref;
    if (typeof ref !== 'string' || !ref.startsWith('./json/')) continue;
    const { $schema, $id, $defs, ...schema } = readJson(new URL(ref, SCHEMAS_DIR));
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (typeof node !== 'object' || node === null) return node;
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace(/^#\/\$defs\//, `#/components/schemas/${name}.`) : rewrite(v)]));
    };
    components[name] = rewrite(schema);
    for (const [defName, def] of Object.entries(($defs ?? {}) as Record<string, unknown>)) components[`${name}.${defName}`] = rewrite(def);
  }
  addActReportExamples(document);
  return document;
}

/** The fixtures (one realistic report per act type) as named request examples, when shipped. */
function addActReportExamples(document: Record<string, unknown>): void {
  if (!existsSync(FIXTURES_DIR)) return;
  const examples: Record<string, unknown> = {};
  for (const file of readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.json')).sort()) {
    const value = readJson(new URL(file, FIXTURES_DIR)) as { act?: { type?: string; code?: string } };
    examples[file.replace(/\.json$/, '')] = { summary: `${value.act?.type ?? ''} (${value.act?.code ?? ''})`, value };
  }
  const paths = document.paths as Record<string, { post?: { requestBody?: { content?: Record<string, Record<string, unknown>> } } }>;
  const media = paths['/v1/act-reports']?.post?.requestBody?.content?.['application/json'];
  if (media !== undefined) media.examples = examples;
}

function readJson(url: URL): Record<string, unknown> {
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
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
