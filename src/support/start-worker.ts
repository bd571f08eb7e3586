/**
 * Starts a worker thread on a module next to the caller. In production the module is compiled
 * JavaScript; under tsx (tests, development) it is TypeScript, and a worker thread does not inherit
 * tsx's loader, so the worker registers it before importing the module.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** `callerUrl`: the caller's import.meta.url; `moduleName`: the worker module's name, without extension. */
export function startWorker(callerUrl: string, moduleName: string, workerData: unknown): Worker {
  const typescript = callerUrl.endsWith('.ts');
  const url = new URL(`./${moduleName}.${typescript ? 'ts' : 'js'}`, callerUrl);
  if (!typescript) return new Worker(url, { workerData });
  // The ESM entry of tsx's API, found next to the CommonJS one that require.resolve returns.
  const tsx = pathToFileURL(createRequire(callerUrl).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
