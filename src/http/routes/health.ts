/** Liveness, readiness (the store answers within a deadline) and Prometheus metrics. */
import { Router } from 'express';
import { PasserelleError } from '../../domain/errors.js';
import type { Store } from '../../store/store.js';
import type { HttpMetrics } from '../metrics.js';

const READY_TIMEOUT_MS = 2000;

export function healthRoutes(store: Store, metrics: HttpMetrics): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)); }, READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([store.ping(), deadline]);
    } catch (error) {
      throw new PasserelleError('store-unavailable', `the ${store.kind} store does not answer: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    res.json({ status: 'ready', store: store.kind });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}
