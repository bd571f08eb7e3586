/**
 * Accepting an act report: validate everything, then commit the submission and its first events
 * in one transaction, and only then answer. Nothing is written for a rejected report.
 */
import { PasserelleError, type Violation } from '../domain/errors.js';
import type { ActReport } from '../domain/act-report.js';
import type { Json, SubmissionRecord, Store } from '../store/store.js';
import { newId } from '../support/new-id.js';
import type { Principal } from '../auth/api-keys.js';
import type { ActReportValidator } from './act-report-validator.js';

export interface AcceptRequest {
  readonly principal: Principal;
  readonly requestId: string;
  readonly idempotencyKey: string | null;
  /** The parsed JSON body. */
  readonly body: unknown;
  /** Size of the body as received, recorded (not its content) in the `received` event. */
  readonly bodyBytes: number;
  /**
   * SHA-256 (hex) of the body bytes: the request's fingerprint for Idempotency-Key checks. A retry
   * resends the same bytes; a body that differs in any byte is another request.
   */
  readonly bodySha256: string;
}

export interface AcceptResult {
  readonly submission: SubmissionRecord;
  /** False when an earlier request with the same Idempotency-Key and body created it. */
  readonly created: boolean;
}

export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

export class ActReportIntake {
  constructor(
    private readonly store: Store,
    private readonly validator: ActReportValidator,
    /** Told of each new submission: its build job is in the queue (the worker need not wait for its next poll). */
    private readonly onCreated: () => void = () => undefined,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async accept(request: AcceptRequest): Promise<AcceptResult> {
    const { principal, idempotencyKey } = request;
    const requestHash = request.bodySha256;
    if (idempotencyKey !== null) {
      // Checked before validating: a retried request gets its answer even if rules changed since.
      const earlier = await this.store.findSubmissionByIdempotencyKey(principal.tenantId, idempotencyKey);
      if (earlier !== undefined) return this.replayed(earlier, requestHash);
    }

    const result = this.validator.validate(request.body);
    const violations: Violation[] = result.ok ? [] : [...result.violations];
    violations.push(...(await this.replacedSubmissionViolations(principal.tenantId, request.body)));
    if (!result.ok || violations.length > 0) {
      throw new PasserelleError('validation-failed', `the act report breaks ${violations.length} rule(s); every violation is listed in errors[]`, { violations });
    }
    const report: ActReport = result.report;
    const now = this.clock();
    const created = await this.store.createSubmission({
      id: newId('sub', now),
      tenantId: principal.tenantId,
      idempotencyKey,
      requestHash,
      requestId: request.requestId,
      actType: report.act.type,
      input: report as unknown as Json,
      createdAt: now,
      events: [
        { type: 'received', at: now, actor: principal.actor, data: { requestId: request.requestId, bytes: request.bodyBytes, idempotencyKey } },
        { type: 'validated', at: now, actor: 'gateway', data: { schema: 'act-report:1', actType: report.act.type, actCode: report.act.code } },
      ],
    });
    if (created.created) this.onCreated();
    // A concurrent request with the same key may have won the race: treat it like a replay.
    return created.created ? { submission: created.submission, created: true } : this.replayed(created.submission, requestHash);
  }

  private replayed(earlier: SubmissionRecord, requestHash: string): AcceptResult {
    if (earlier.requestHash !== requestHash) {
      throw new PasserelleError('idempotency-conflict', `Idempotency-Key already used for submission ${earlier.id} with a different body; use a new key for a new report`);
    }
    return { submission: earlier, created: false };
  }

  private async replacedSubmissionViolations(tenantId: string, body: unknown): Promise<Violation[]> {
    const replaces = (body as { replaces?: { submissionId?: unknown } } | null)?.replaces;
    const id = replaces?.submissionId;
    if (typeof id !== 'string' || !/^sub_[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return [];
    if ((await this.store.getSubmission(tenantId, id)) !== undefined) return [];
    return [{ pointer: '/replaces/submissionId', rule: 'REPLACED_SUBMISSION_NOT_FOUND', message: `no submission ${id} exists for this tenant`, hint: 'Give the id returned when the replaced report was accepted, or identify the document by documentId, setId and versionNumber.' }];
  }
}
