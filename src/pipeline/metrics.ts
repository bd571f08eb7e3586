/** Prometheus metrics of the pipeline, on the gateway's registry: jobs settled, their duration, the queue and the breakers. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobKind } from '../domain/submission.js';
import type { Store } from '../store/store.js';
import type { BreakerState } from './circuit-breaker.js';

const BREAKER_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export function registerPipelineMetrics(registry: Registry, sources: { readonly store: Store; readonly breakers: () => ReadonlyMap<JobKind, BreakerState> }): (kind: JobKind, outcome: string, seconds: number) => void {
  const jobs = new Counter({ name: 'passerelle_jobs_total', help: 'Pipeline jobs settled, by kind and outcome (done, retry, dead, lost)', labelNames: ['kind', 'outcome'] as const, registers: [registry] });
  const duration = new Histogram({ name: 'passerelle_job_duration_seconds', help: 'Pipeline job duration, by kind', labelNames: ['kind'] as const, buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  new Gauge({
    name: 'passerelle_jobs',
    help: 'Jobs in the queue, by kind and state; overdue: ready jobs whose time has passed',
    labelNames: ['kind', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await sources.store.countJobs(new Date())) {
        this.set({ kind: row.kind, state: row.state }, row.count);
        if (row.state === 'ready') this.set({ kind: row.kind, state: 'overdue' }, row.overdue);
      }
    },
  });
  new Gauge({
    name: 'passerelle_circuit_breaker_state',
    help: 'Circuit breaker of each job kind in this process: 0 closed, 1 half-open, 2 open',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      for (const [kind, state] of sources.breakers()) this.set({ kind }, BREAKER_VALUE[state]);
    },
  });
  return (kind, outcome, seconds) => {
    jobs.inc({ kind, outcome });
    duration.observe({ kind }, seconds);
  };
}
