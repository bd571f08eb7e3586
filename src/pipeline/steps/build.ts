/**
 * The build job: the act report becomes its TLM-CR, built and checked by produceDocument, signed
 * with the ORG SIGN certificate, and stored with the destinations it must reach (received →
 * built → signed → sending), each with its own job. A report the document cannot be built from
 * fails at once with every reason (received → failed): no later attempt would change that.
 *
 * Without a signing identity the gateway builds and stores the document but delivers nothing: the
 * DMP takes signed submissions only, and an unsigned report is not one to send.
 */
import type { ReplacedDocument } from '../../cda/document-ids.js';
import { idOfUniqueId, uniqueIdOf } from '../../cda/document-ids.js';
import type { ActReport } from '../../domain/act-report.js';
import { PasserelleError } from '../../domain/errors.js';
import type { Signer } from '../../signing/configured-signer.js';
import { describeName } from '../../signing/identity.js';
import { signCda } from '../../signing/signed-cda.js';
import type { ClaimedJob, DeliveryRecord, Json, NewEvent, NewJob, Store } from '../../store/store.js';
import { mssDestination, type MssClient } from '../../transports/mss/mss-client.js';
import { recipientsOf } from '../../transports/mss/recipients.js';
import { produceDocument, type DocumentFactory } from '../produce-document.js';
import type { Step, StepContext, StepResult } from './step.js';

const ACTOR = 'worker:build';
/** While the document a report replaces is still being built, look again shortly. */
const REPLACED_WAIT_MS = 1_000;

export interface BuildStepOptions {
  readonly store: Store;
  readonly factory: DocumentFactory;
  readonly signer?: Signer;
  /** Whether a DMP is configured: a report asking for it fails that destination otherwise. */
  readonly dmp: boolean;
  readonly mss?: MssClient;
}

export class BuildStep implements Step {
  readonly kind = 'build';

  constructor(private readonly options: BuildStepOptions) {}

  async run(job: ClaimedJob, context: StepContext): Promise<StepResult> {
    const { now } = context;
    const submission = job.submission;
    const report = submission.input as unknown as ActReport;
    let built;
    try {
      const replaced = await this.replacedDocument(submission.tenantId, report);
      if (replaced === 'wait') {
        return { outcome: { state: 'retry', runAt: new Date(now.getTime() + REPLACED_WAIT_MS), lastError: { code: 'waiting', message: 'the replaced submission has no document yet' } }, change: { events: [] }, health: 'neutral' };
      }
      built = await produceDocument(report, { type: 'tlm-cr', seed: submission.id, now, ...(replaced === undefined ? {} : { replaced }) }, this.options.factory);
    } catch (error) {
      if (!(error instanceof PasserelleError)) throw error;
      const data: Json = { code: error.code, detail: error.message, violations: error.violations.map((v) => ({ pointer: v.pointer, rule: v.rule, message: v.message })) };
      return {
        outcome: { state: 'dead', lastError: { code: error.code, message: error.message } },
        change: { expectStatus: ['received'], events: [{ type: 'build-failed', at: now, actor: ACTOR, data }], statusPath: ['failed'] },
        health: 'neutral',
      };
    }
    const { document, issues } = built;
    const documentId = uniqueIdOf(document.id);
    const signer = this.options.signer;
    const xml = signer === undefined ? document.xml : signCda(document.xml, signer.identity);
    const events: NewEvent[] = [{ type: 'built', at: now, actor: ACTOR, data: { documentType: document.type, volet: document.volet, documentId, versionNumber: document.versionNumber, bytes: document.xml.length, warnings: issues.length } }];
    const record = { submissionId: submission.id, type: document.type, volet: document.volet, documentId, setId: uniqueIdOf(document.setId), versionNumber: document.versionNumber, xml, pdf: document.pdf === undefined ? null : Buffer.from(document.pdf), builtAt: now };
    if (signer === undefined) {
      return { outcome: { state: 'done' }, change: { expectStatus: ['received'], document: record, events, statusPath: ['built'] }, health: 'ok' };
    }
    events.push({ type: 'signed', at: now, actor: ACTOR, data: { documentId, signer: describeName(signer.identity.certificate.subject) } });
    const plan = await this.destinations(submission.tenantId, submission.id, report, now);
    return {
      outcome: { state: 'done' },
      change: { expectStatus: ['received'], document: record, deliveries: plan.deliveries, events: [...events, ...plan.events], statusPath: ['built', 'signed'], deriveStatus: true, enqueue: plan.jobs },
      health: 'ok',
    };
  }

  /**
   * Where the document goes: the DMP when the report asks for it, and each MSSanté recipient.
   * A rebuild (a replay) leaves alone the destinations that already have the document.
   */
  private async destinations(tenantId: string, submissionId: string, report: ActReport, now: Date): Promise<{ deliveries: DeliveryRecord[]; events: NewEvent[]; jobs: NewJob[] }> {
    const existing = new Map((await this.options.store.listDeliveries(tenantId, submissionId) ?? []).map((d) => [d.destination, d]));
    const done = (destination: string): boolean => ['sent', 'delivered', 'skipped'].includes(existing.get(destination)?.status ?? '');
    const deliveries: DeliveryRecord[] = [];
    const events: NewEvent[] = [];
    const kinds = new Set<'dmp' | 'mss'>();
    const add = (destination: string, status: 'pending' | 'failed' | 'skipped', detail: Json): void => {
      if (done(destination)) return;
      deliveries.push({ submissionId, destination, status, reference: null, detail, updatedAt: now });
      if (status === 'skipped') events.push({ type: 'skipped', at: now, actor: ACTOR, data: { destination, ...(detail as { reason: string }) } });
      if (status === 'failed') events.push({ type: 'delivery-failed', at: now, actor: ACTOR, data: { destination, attempt: 0, error: (detail as { error: Json }).error, deadLetter: true } });
    };
    if (!report.sharing.fileInDmp) add('dmp', 'skipped', { reason: 'not-requested' });
    else if (!this.options.dmp) add('dmp', 'failed', { attempts: 0, error: { code: 'DMP_NOT_CONFIGURED', message: 'the report asks for the DMP, and this gateway has no DMP configured' } });
    else {
      add('dmp', 'pending', { attempts: 0 });
      if (!done('dmp')) kinds.add('dmp');
    }
    const mss = this.options.mss;
    if (mss === undefined) {
      // Named as the MSSanté client would name them, so that configuring it later changes nothing.
      for (const r of recipientsOf(report).recipients) add(mssDestination(r.address), 'failed', { role: r.role, attempts: 0, error: { code: 'MSS_NOT_CONFIGURED', message: 'this gateway has no MSSanté mailbox configured' } });
    } else {
      const { recipients, unreachable } = mss.recipients(report);
      for (const r of recipients) {
        const destination = mssDestination(r.address);
        add(destination, 'pending', { role: r.role, attempts: 0 });
        if (!done(destination)) kinds.add('mss');
      }
      for (const u of unreachable) add(u.destination, 'failed', { role: u.role, attempts: 0, error: { code: u.code ?? 'NO_MSSANTE_ADDRESS', message: 'this recipient has no usable MSSanté address' } });
    }
    return { deliveries, events, jobs: [...kinds].map((kind) => ({ kind, runAt: now })) };
  }

  /**
   * The document a `replaces.submissionId` points to. The replaced submission may still be
   * waiting for its own document: then this one waits too ('wait'); if it failed, nothing can be
   * replaced and the report is refused.
   */
  private async replacedDocument(tenantId: string, report: ActReport): Promise<ReplacedDocument | undefined | 'wait'> {
    const replaces = report.replaces;
    if (replaces === undefined || !('submissionId' in replaces)) return undefined;
    const document = await this.options.store.getDocument(tenantId, replaces.submissionId);
    if (document !== undefined) return { id: idOfUniqueId(document.documentId), setId: idOfUniqueId(document.setId), versionNumber: document.versionNumber };
    const replaced = await this.options.store.getSubmission(tenantId, replaces.submissionId);
    if (replaced?.status === 'received') return 'wait';
    throw new PasserelleError('document-not-buildable', 'the replaced submission has no document', {
      violations: [{ pointer: '/replaces/submissionId', rule: 'REPLACED_WITHOUT_DOCUMENT', message: `submission ${replaces.submissionId} has no document to replace (its build failed)`, hint: 'Replace a submission whose document was built, or send a new report.' }],
    });
  }
}
