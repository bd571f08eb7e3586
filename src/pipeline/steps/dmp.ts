/**
 * The DMP job: files the signed document with ITI-41 (after the TD0.2 check unless configured
 * off), or records why it was not fed (the patient objects, has no DMP or a closed one).
 *
 * Filing is made idempotent by the document's uniqueId, which never changes between attempts:
 * before any attempt after the first (the previous one may have reached the DMP before its answer
 * was lost to a crash or a time-out), and whenever the DMP answers that the uniqueId is already
 * registered, ITI-18 asks the registry; a registered entry with the same hash counts as filed.
 */
import { uniqueIdOf } from '../../cda/document-ids.js';
import type { ActReport } from '../../domain/act-report.js';
import type { ClaimedJob, DeliveryRecord, DocumentRecord, Json, Store } from '../../store/store.js';
import { objectOf } from '../../store/stored-values.js';
import type { DmpClient } from '../../transports/dmp/dmp-client.js';
import type { DocumentEntry } from '../../xds/model.js';
import { bounded, failureOf, type Failure } from '../failure.js';
import { documentAndDeliveries, failureDetail, failureEvent, withoutFailure, type Step, type StepContext, type StepResult } from './step.js';

const ACTOR = 'worker:dmp';
const DESTINATION = 'dmp';

export class DmpStep implements Step {
  readonly kind = 'dmp';

  constructor(private readonly store: Store, private readonly dmp: DmpClient) {}

  async run(job: ClaimedJob, context: StepContext): Promise<StepResult> {
    const { now } = context;
    const { tenantId, id } = job.submission;
    const { document, deliveries } = await documentAndDeliveries(this.store, job);
    const previous = deliveries.find((d) => d.destination === DESTINATION);
    if (document === undefined) return this.failed(job, context, previous, { code: 'no-document', message: 'the submission has no document to file', retryable: false });
    const report = job.submission.input as unknown as ActReport;
    try {
      if (job.attempts > 1) {
        const registered = await this.dmp.registeredEntry(document.xml);
        if (registered !== undefined) return this.filed(job, now, previous, document, registered, { checked: true });
      }
      const replacesUniqueId = await this.replacedUniqueId(tenantId, report);
      const outcome = await this.dmp.feed(document.xml, {
        requested: true,
        patientObjects: report.sharing.dmpOpposition,
        ...(report.sharing.masking === undefined ? {} : { masking: report.sharing.masking }),
        ...(replacesUniqueId === undefined ? {} : { replacesUniqueId }),
      });
      if (!outcome.fed) {
        const reason = outcome.decision.reason ?? 'not-requested';
        return {
          outcome: { state: 'done' },
          change: { deliveries: [this.delivery(previous, id, 'skipped', null, { ...objectOf(previous?.detail), attempts: job.attempts, reason }, now)], events: [{ type: 'skipped', at: now, actor: ACTOR, data: { destination: DESTINATION, reason } }], deriveStatus: true },
          health: 'ok',
        };
      }
      const { verdict, response } = outcome.filing;
      if (verdict.outcome === 'success') return this.filed(job, now, previous, document, outcome.filing.documentEntry, { submissionSetUniqueId: outcome.filing.submissionSet.uniqueId });
      if (verdict.duplicate) {
        const registered = await this.dmp.registeredEntry(document.xml);
        if (registered !== undefined) return this.filed(job, now, previous, document, registered, { checked: true });
      }
      const error = response.errors.find((e) => e.errorCode === verdict.errorCode);
      return this.failed(job, context, previous, { code: verdict.errorCode ?? 'XDSRegistryError', message: bounded(error?.codeContext ?? `the DMP answered ${response.status}`), retryable: verdict.outcome === 'retryable' }, 'failing');
    } catch (error) {
      const failure = failureOf(error);
      return this.failed(job, context, previous, failure, failure.retryable ? 'failing' : 'neutral');
    }
  }

  private filed(job: ClaimedJob, now: Date, previous: DeliveryRecord | undefined, document: DocumentRecord, entry: DocumentEntry, extra: { submissionSetUniqueId?: string; checked?: boolean }): StepResult {
    const detail: Json = {
      ...withoutFailure(previous?.detail),
      attempts: job.attempts,
      uniqueId: document.documentId,
      entryUUID: entry.entryUUID,
      ...(extra.submissionSetUniqueId === undefined ? {} : { submissionSetUniqueId: extra.submissionSetUniqueId }),
      ...(extra.checked === true ? { foundByQuery: true } : {}),
      registeredAt: now.toISOString(),
    };
    return {
      outcome: { state: 'done' },
      change: { deliveries: [this.delivery(previous, job.submissionId, 'delivered', document.documentId, detail, now)], events: [{ type: 'sent', at: now, actor: ACTOR, data: { destination: DESTINATION, reference: document.documentId, attempt: job.attempts, ...(extra.checked === true ? { foundByQuery: true } : {}) } }], deriveStatus: true },
      health: 'ok',
    };
  }

  private failed(job: ClaimedJob, context: StepContext, previous: DeliveryRecord | undefined, failure: Failure, health: StepResult['health'] = 'neutral'): StepResult {
    const outcome = context.failed(failure);
    const status = outcome.state === 'retry' ? 'retrying' : 'failed';
    return {
      outcome,
      change: { deliveries: [this.delivery(previous, job.submissionId, status, previous?.reference ?? null, failureDetail(previous?.detail, job.attempts, outcome), context.now)], events: [failureEvent(DESTINATION, job.attempts, outcome, ACTOR, context.now)], deriveStatus: true },
      health,
    };
  }

  private delivery(previous: DeliveryRecord | undefined, submissionId: string, status: DeliveryRecord['status'], reference: string | null, detail: Json, now: Date): DeliveryRecord {
    return { submissionId, destination: previous?.destination ?? DESTINATION, status, reference, detail, updatedAt: now };
  }

  /** The uniqueId of the document this report replaces, when it replaces one (RPLC). */
  private async replacedUniqueId(tenantId: string, report: ActReport): Promise<string | undefined> {
    const replaces = report.replaces;
    if (replaces === undefined) return undefined;
    if ('documentId' in replaces) return uniqueIdOf(replaces.documentId);
    return (await this.store.getDocument(tenantId, replaces.submissionId))?.documentId;
  }
}
