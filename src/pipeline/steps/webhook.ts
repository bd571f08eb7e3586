/**
 * The webhook job: tells the tenant's platform that a submission reached a terminal state, by an
 * HTTP POST signed with the tenant's shared secret, so that it never has to poll. The signature
 * covers a timestamp and the exact body (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`),
 * which lets the receiver refuse a replayed or altered call. The body holds ids and statuses
 * only: no health data leaves by this way.
 */
import { createHmac } from 'node:crypto';
import type { ClaimedJob, Store } from '../../store/store.js';
import { bounded } from '../failure.js';
import type { Step, StepContext, StepResult } from './step.js';

const ACTOR = 'worker:webhook';
const SIGNATURE_HEADER = 'Passerelle-Signature';
const TIMEOUT_MS = 10_000;

export interface TenantWebhook {
  readonly url: string;
  readonly secret: Buffer;
}

function webhookSignature(secret: Buffer, timestamp: number, body: string): string {
  return `t=${String(timestamp)},v1=${createHmac('sha256', secret).update(`${String(timestamp)}.${body}`).digest('hex')}`;
}

export class WebhookStep implements Step {
  readonly kind = 'webhook';

  constructor(private readonly store: Store, private readonly webhooks: ReadonlyMap<string, TenantWebhook>) {}

  async run(job: ClaimedJob, context: StepContext): Promise<StepResult> {
    const { tenantId, id } = job.submission;
    const webhook = this.webhooks.get(tenantId);
    // The tenant's webhook was removed from the configuration since: nothing to tell.
    if (webhook === undefined) return { outcome: { state: 'done' }, change: { events: [] }, health: 'neutral' };
    const [submission, deliveries] = await Promise.all([this.store.getSubmission(tenantId, id), this.store.listDeliveries(tenantId, id)]);
    const body = JSON.stringify({
      submissionId: id,
      status: submission?.status ?? job.submission.status,
      requestId: job.submission.requestId,
      deliveries: (deliveries ?? []).map((d) => ({ destination: d.destination, status: d.status, reference: d.reference })),
    });
    const timestamp = Math.floor(context.now.getTime() / 1000);
    let status: number;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: webhookSignature(webhook.secret, timestamp, body) },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      return { outcome: context.failed({ code: 'partner-unavailable', message: bounded(`the webhook could not be reached: ${(error as Error).message}`), retryable: true }), change: { events: [] }, health: 'failing' };
    }
    if (status < 200 || status >= 300) {
      const retryable = status >= 500 || status === 408 || status === 429;
      return { outcome: context.failed({ code: `HTTP ${String(status)}`, message: 'the webhook answered with an error status', retryable }), change: { events: [] }, health: retryable ? 'failing' : 'neutral' };
    }
    return { outcome: { state: 'done' }, change: { events: [{ type: 'notified', at: context.now, actor: ACTOR, data: { host: new URL(webhook.url).host, status } }] }, health: 'ok' };
  }
}
