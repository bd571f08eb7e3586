/** Prometheus metrics (prom-client), one registry per gateway instance so tests can run several. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'passerelle_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'passerelle_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method', 'route'] as const, buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly accepted = new Counter({ name: 'passerelle_act_reports_accepted_total', help: 'Act reports accepted, by act type', labelNames: ['act_type'] as const, registers: [this.registry] });
  readonly rejected = new Counter({ name: 'passerelle_act_reports_rejected_total', help: 'Act reports rejected, by rule', labelNames: ['rule'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'passerelle_' });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }
}
