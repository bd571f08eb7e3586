/**
 * The gateway's build step: every received submission gets its TLM-CR, built and checked by
 * produceDocument, and stored with it (received → built), or fails with the reasons recorded
 * (received → failed). It polls the store, so submissions left over by a crash are picked up at
 * the next start. Issue 8's durable queue will replace the polling; the step itself stays.
 */
import type { ReplacedDocument } from '../cda/document-ids.js';
import { idOfUniqueId, uniqueIdOf } from '../cda/document-ids.js';
import type { ActReport } from '../domain/act-report.js';
import { PasserelleError } from '../domain/errors.js';
import type { Json, Store, SubmissionRecord } from '../store/store.js';
import type { Logger } from '../support/logger.js';
import { produceDocument, type DocumentFactory } from './produce-document.js';

export interface BuildStepOptions {
  readonly store: Store;
  readonly factory: DocumentFactory;
  readonly logger: Logger;
  readonly clock?: () => Date;
  /** Pause between two looks at the store when there was nothing to do. */
  readonly idleMs?: number;
  readonly batchSize?: number;
}

const ACTOR = 'worker:build';

export class BuildStep {
  readonly #options: BuildStepOptions;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(options: BuildStepOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
  }

  /** Builds what is waiting, one batch; returns how many submissions it settled. */
  async runOnce(): Promise<number> {
    const waiting = await this.#options.store.listSubmissionsToBuild(this.#options.batchSize ?? 20);
    let settled = 0;
    for (const submission of waiting) {
      if (this.#stopping) break;
      if (await this.#build(submission)) settled++;
    }
    return settled;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let settled = 0;
      try {
        settled = await this.runOnce();
      } catch (error) {
        // The store is unreachable or a bug: log without data, try again after a pause.
        this.#options.logger.error({ err: { message: (error as Error).message } }, 'build step failed; retrying');
      }
      // stop() wakes a sleeping loop, which then sees #stopping.
      if (settled === 0) await this.#sleep(this.#options.idleMs ?? 250);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** True when the submission left `received` (built or failed); false when it has to wait. */
  async #build(submission: SubmissionRecord): Promise<boolean> {
    const { store, factory, logger } = this.#options;
    const now = (this.#options.clock ?? (() => new Date()))();
    const report = submission.input as unknown as ActReport;
    try {
      const replaced = await this.#replacedDocument(submission, report);
      if (replaced === 'wait') return false;
      const { document, issues } = await produceDocument(report, { type: 'tlm-cr', seed: submission.id, now, ...(replaced === undefined ? {} : { replaced }) }, factory);
      const recorded = await store.recordDocument(
        { submissionId: submission.id, type: document.type, volet: document.volet, documentId: uniqueIdOf(document.id), setId: uniqueIdOf(document.setId), versionNumber: document.versionNumber, xml: document.xml, pdf: document.pdf === undefined ? null : Buffer.from(document.pdf), builtAt: now },
        { type: 'built', at: now, actor: ACTOR, data: { documentType: document.type, volet: document.volet, documentId: uniqueIdOf(document.id), versionNumber: document.versionNumber, bytes: document.xml.length, warnings: issues.length } },
      );
      logger.info({ submissionId: submission.id, volet: document.volet, recorded }, 'document built');
      return true;
    } catch (error) {
      if (!(error instanceof PasserelleError)) throw error;
      const data: Json = { code: error.code, detail: error.message, violations: error.violations.map((v) => ({ pointer: v.pointer, rule: v.rule, message: v.message })) };
      await store.recordBuildFailure(submission.id, { type: 'build-failed', at: now, actor: ACTOR, data });
      logger.warn({ submissionId: submission.id, code: error.code, rules: error.violations.map((v) => v.rule) }, 'document not built');
      return true;
    }
  }

  /**
   * The document a `replaces.submissionId` points to. The replaced submission may still be
   * waiting for its own document: then this one waits too ('wait'); if it failed, nothing can be
   * replaced and the report is refused.
   */
  async #replacedDocument(submission: SubmissionRecord, report: ActReport): Promise<ReplacedDocument | undefined | 'wait'> {
    const replaces = report.replaces;
    if (replaces === undefined || !('submissionId' in replaces)) return undefined;
    const document = await this.#options.store.getDocument(submission.tenantId, replaces.submissionId);
    if (document !== undefined) return { id: idOfUniqueId(document.documentId), setId: idOfUniqueId(document.setId), versionNumber: document.versionNumber };
    const replaced = await this.#options.store.getSubmission(submission.tenantId, replaces.submissionId);
    if (replaced?.status === 'received') return 'wait';
    throw new PasserelleError('document-not-buildable', 'the replaced submission has no document', {
      violations: [{ pointer: '/replaces/submissionId', rule: 'REPLACED_WITHOUT_DOCUMENT', message: `submission ${replaces.submissionId} has no document to replace (its build failed)`, hint: 'Replace a submission whose document was built, or send a new report.' }],
    });
  }
}
