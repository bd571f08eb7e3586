/**
 * The MSSanté job: one message to every recipient still waiting (pending or retrying), with the
 * submission's stable Message-ID, so that a recipient who gets it twice after a crash sees the same
 * message. Per-recipient refusals are recorded per recipient: a 4xx waits for a new attempt of
 * this job (which then goes to the recipients still waiting only), a 5xx fails that recipient for
 * good. A failure of the whole SMTP transaction concerns every waiting recipient.
 */
import type { ActReport } from '../../domain/act-report.js';
import type { ClaimedJob, DeliveryRecord, NewEvent, Store } from '../../store/store.js';
import { objectOf } from '../../store/stored-values.js';
import type { MssClient, MssRecipientOutcome } from '../../transports/mss/mss-client.js';
import { failureOf, type Failure } from '../failure.js';
import { documentAndDeliveries, failureDetail, failureEvent, withoutFailure, type FailureOutcome, type Step, type StepContext, type StepResult } from './step.js';

const ACTOR = 'worker:mss';
const WAITING: readonly string[] = ['pending', 'retrying'];

export class MssStep implements Step {
  readonly kind = 'mss';

  constructor(private readonly store: Store, private readonly mss: MssClient) {}

  async run(job: ClaimedJob, context: StepContext): Promise<StepResult> {
    const { now } = context;
    const { id } = job.submission;
    const { document, deliveries } = await documentAndDeliveries(this.store, job);
    const waiting = deliveries.filter((d) => d.destination.startsWith('mss:') && WAITING.includes(d.status));
    if (waiting.length === 0) return { outcome: { state: 'done' }, change: { events: [] }, health: 'neutral' };
    if (document === undefined) return this.allFailed(job, context, waiting, { code: 'no-document', message: 'the submission has no document to send', retryable: false });
    let sent;
    try {
      sent = await this.mss.send({ submissionId: id, report: job.submission.input as unknown as ActReport, cda: document.xml, ...(document.pdf === null ? {} : { pdf: document.pdf }), destinations: waiting.map((d) => d.destination) });
    } catch (error) {
      const failure = failureOf(error);
      return { ...this.allFailed(job, context, waiting, failure), health: failure.retryable ? 'failing' : 'neutral' };
    }
    const byDestination = new Map(sent.recipients.map((r) => [r.destination, r]));
    const retrying = sent.recipients.filter((r) => r.status === 'retrying');
    // One job for the message: a recipient to try again keeps the whole job for a later attempt.
    const later = retrying.length === 0 ? undefined : context.failed({ code: retrying[0]?.code ?? 'partner-unavailable', message: 'a recipient\'s server asked to try again later', retryable: true });
    const changed: DeliveryRecord[] = [];
    const events: NewEvent[] = [];
    for (const delivery of waiting) {
      const r = byDestination.get(delivery.destination);
      // A recipient no longer in the report (it cannot be, the report is stored as accepted) stays as it is.
      if (r === undefined) continue;
      const { record, event } = this.recipientOutcome(job, delivery, r, sent.messageId, later, now);
      changed.push(record);
      events.push(event);
    }
    // Nothing left to try: a recipient refused for good puts the job in the dead letter, with its reply.
    const refused = changed.find((d) => d.status === 'failed');
    const outcome = later ?? (refused === undefined ? { state: 'done' as const } : { state: 'dead' as const, lastError: objectOf(refused.detail).error ?? null });
    return { outcome, change: { deliveries: changed, events, deriveStatus: true }, health: 'ok' };
  }

  private recipientOutcome(job: ClaimedJob, delivery: DeliveryRecord, r: MssRecipientOutcome, messageId: string, later: FailureOutcome | undefined, now: Date): { record: DeliveryRecord; event: NewEvent } {
    if (r.status === 'sent') {
      return {
        record: { ...delivery, status: 'sent', reference: messageId, detail: { ...withoutFailure(delivery.detail), attempts: job.attempts }, updatedAt: now },
        event: { type: 'sent', at: now, actor: ACTOR, data: { destination: delivery.destination, reference: messageId, attempt: job.attempts } },
      };
    }
    const error = { code: r.code ?? 'partner-rejected', message: r.status === 'retrying' ? 'the recipient\'s server asked to try again later' : 'the recipient\'s server refused the message' };
    // A recipient refused for good is dead at once; one to retry follows the job (dead when it is).
    const outcome: FailureOutcome = r.status === 'failed' || later === undefined ? { state: 'dead', lastError: error } : later.state === 'retry' ? { ...later, lastError: error } : { state: 'dead', lastError: error };
    return {
      record: { ...delivery, status: outcome.state === 'retry' ? 'retrying' : 'failed', reference: messageId, detail: failureDetail(delivery.detail, job.attempts, outcome), updatedAt: now },
      event: failureEvent(delivery.destination, job.attempts, outcome, ACTOR, now),
    };
  }

  private allFailed(job: ClaimedJob, context: StepContext, waiting: readonly DeliveryRecord[], failure: Failure): StepResult {
    const outcome = context.failed(failure);
    return {
      outcome,
      change: {
        deliveries: waiting.map((d) => ({ ...d, status: outcome.state === 'retry' ? 'retrying' : 'failed', detail: failureDetail(d.detail, job.attempts, outcome), updatedAt: context.now })),
        events: waiting.map((d) => failureEvent(d.destination, job.attempts, outcome, ACTOR, context.now)),
        deriveStatus: true,
      },
      health: 'neutral',
    };
  }
}
