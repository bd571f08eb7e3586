/**
 * What the reliability tests check once every submission is terminal: each one delivered once,
 * by its own record (events, deliveries, jobs) and by the partners' (the DMP sandbox's registry,
 * the MSSanté sandbox's mail).
 */
import { expect } from 'chai';
import { deriveSubmissionStatus, TERMINAL_STATUSES, type DeliveryStatus, type SubmissionStatus } from '../../src/domain/submission.js';
import { isSignatureEntry } from '../../src/sim/dmp/registry-rules.js';
import type { Json, Store, SubmissionEvent } from '../../src/store/store.js';
import type { Sandboxes, WebhookReceiver } from '../support/gateway-process.js';

/** Store calls in flight while the records of many submissions are read. */
const READERS = 16;

/** What each delivery event makes of its destination. */
const DELIVERY_EVENT_STATUS: Readonly<Partial<Record<SubmissionEvent['type'], DeliveryStatus>>> = {
  sent: 'sent',
  skipped: 'skipped',
  retrying: 'retrying',
  'delivery-failed': 'failed',
  acknowledged: 'delivered',
};

export const asObject = (value: Json | undefined): Record<string, Json> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {});

export const destinationOf = (event: SubmissionEvent): string | undefined => {
  const destination = asObject(event.data).destination;
  return typeof destination === 'string' ? destination : undefined;
};

/**
 * How many times the submission's status, as its events tell it, moved into a terminal state: a
 * build failure, or the status derived from its destinations (each pending until its first event)
 * becoming delivered or failed, or changing between the two. Once is right; twice means two
 * workers (or a worker and a restarted one) both settled it.
 */
export function terminalTransitions(events: readonly SubmissionEvent[]): number {
  const destinations = new Map<string, DeliveryStatus>();
  for (const e of events) {
    const destination = destinationOf(e);
    if (destination !== undefined && DELIVERY_EVENT_STATUS[e.type] !== undefined) destinations.set(destination, 'pending');
  }
  let status: SubmissionStatus | undefined;
  let transitions = 0;
  const moveTo = (next: SubmissionStatus): void => {
    if (next !== status && TERMINAL_STATUSES.includes(next)) transitions += 1;
    status = next;
  };
  for (const e of events) {
    if (e.type === 'build-failed') { moveTo('failed'); continue; }
    const delivery = DELIVERY_EVENT_STATUS[e.type];
    const destination = destinationOf(e);
    if (delivery === undefined || destination === undefined) continue;
    destinations.set(destination, delivery);
    moveTo(deriveSubmissionStatus([...destinations.values()].map((s) => ({ status: s }))));
  }
  return transitions;
}

export const countEvents = (events: readonly SubmissionEvent[], type: SubmissionEvent['type'], destination?: string): number =>
  events.filter((e) => e.type === type && (destination === undefined || destinationOf(e) === destination)).length;

export interface SubmissionRecords {
  readonly id: string;
  readonly status: SubmissionStatus;
  readonly events: readonly SubmissionEvent[];
  readonly documentId?: string;
  readonly deliveries: readonly { readonly destination: string; readonly status: DeliveryStatus; readonly reference: string | null; readonly detail: Json }[];
  readonly jobs: readonly { readonly kind: string; readonly state: string; readonly attempts: number; readonly lastError: Json }[];
}

/** The whole record of each submission, read `READERS` at a time. */
export async function readRecords(store: Store, tenantId: string, ids: readonly string[]): Promise<SubmissionRecords[]> {
  const records: SubmissionRecords[] = new Array<SubmissionRecords>(ids.length);
  let next = 0;
  await Promise.all(Array.from({ length: READERS }, async () => {
    while (next < ids.length) {
      const i = next++;
      const id = ids[i] ?? '';
      const [submission, events, document, deliveries, jobs] = await Promise.all([
        store.getSubmission(tenantId, id), store.listEvents(tenantId, id), store.getDocument(tenantId, id), store.listDeliveries(tenantId, id), store.listJobs(tenantId, id),
      ]);
      expect(submission, `submission ${id}`).to.not.equal(undefined);
      records[i] = {
        id,
        status: submission?.status ?? 'received',
        events: events ?? [],
        ...(document === undefined ? {} : { documentId: document.documentId }),
        deliveries: deliveries ?? [],
        jobs: jobs ?? [],
      };
    }
  }));
  return records;
}

export interface DeliveredOnce {
  /** MSSanté messages the sandbox got more than once (a kill after SMTP accepted, before it was recorded): allowed, counted. */
  readonly mssResent: number;
  /** `retrying` events over all submissions. */
  readonly retries: number;
  /** DMP filings found already registered (ITI-18) on a later attempt: the earlier one had reached the DMP. */
  readonly foundByQuery: number;
}

/**
 * Every submission delivered, once: one `built`, one `signed`, one `sent` per destination and no
 * failure in its events, one terminal transition, every job done; the DMP sandbox holds exactly
 * these documents, each once, under the uniqueIds the store gave them; the MSSanté sandbox got
 * every message the store names.
 */
export function expectDeliveredOnce(records: readonly SubmissionRecords[], sandboxes: Sandboxes): DeliveredOnce {
  for (const r of records) {
    const where = `submission ${r.id}`;
    expect(r.status, `${where} status`).to.equal('delivered');
    expect(countEvents(r.events, 'built'), `${where}: built events`).to.equal(1);
    expect(countEvents(r.events, 'signed'), `${where}: signed events`).to.equal(1);
    expect(countEvents(r.events, 'delivery-failed'), `${where}: delivery-failed events`).to.equal(0);
    expect(terminalTransitions(r.events), `${where}: transitions into a terminal state (events ${r.events.map((e) => e.type).join(',')})`).to.equal(1);
    expect(r.documentId, `${where}: document`).to.be.a('string');
    const dmp = r.deliveries.find((d) => d.destination === 'dmp');
    // Registered by the DMP is its acknowledgement: the delivery may say delivered at once.
    expect(dmp?.status, `${where}: DMP delivery`).to.be.oneOf(['sent', 'delivered']);
    expect(dmp?.reference, `${where}: DMP delivery reference`).to.equal(r.documentId);
    expect(r.deliveries.filter((d) => d.destination.startsWith('mss:')), `${where}: MSSanté deliveries`).to.not.be.empty;
    for (const d of r.deliveries) {
      expect(countEvents(r.events, 'sent', d.destination), `${where}: sent events for ${d.destination}`).to.equal(1);
      if (d.destination.startsWith('mss:')) expect(d.status, `${where}: ${d.destination}`).to.be.oneOf(['sent', 'delivered']);
    }
    expect(r.jobs.filter((j) => j.state !== 'done').map((j) => `${j.kind}:${j.state}`), `${where}: unfinished jobs`).to.deep.equal([]);
  }

  const filed = sandboxes.dmp.store.currentEntries().filter((e) => !isSignatureEntry(e)).map((e) => e.uniqueId);
  const documentIds = records.map((r) => r.documentId ?? '');
  expect(new Set(documentIds).size, 'distinct document ids in the store').to.equal(records.length);
  expect(filed.length, 'documents in the DMP sandbox').to.equal(records.length);
  expect(new Set(filed).size, 'distinct uniqueIds in the DMP sandbox').to.equal(filed.length);
  expect([...filed].sort()).to.deep.equal([...documentIds].sort());

  const mail = new Map<string, number>();
  for (const m of sandboxes.mss.smtp.received()) if (m.messageId !== undefined) mail.set(m.messageId, (mail.get(m.messageId) ?? 0) + 1);
  const messageIds = new Set(records.flatMap((r) => r.deliveries.filter((d) => d.destination.startsWith('mss:')).map((d) => d.reference ?? '')));
  for (const messageId of messageIds) expect(mail.get(messageId) ?? 0, `MSSanté messages ${messageId}`).to.be.at.least(1);
  return {
    mssResent: [...messageIds].reduce((n, id) => n + Math.max(0, (mail.get(id) ?? 0) - 1), 0),
    retries: records.reduce((n, r) => n + countEvents(r.events, 'retrying'), 0),
    foundByQuery: records.reduce((n, r) => n + r.events.filter((e) => e.type === 'sent' && asObject(e.data).foundByQuery === true).length, 0),
  };
}

/** The feeder's answers: each key named one submission, however many times it was answered. */
export function expectOneSubmissionPerKey(answers: ReadonlyMap<string, readonly string[]>, count: number): string[] {
  expect(answers.size, 'reports accepted').to.equal(count);
  for (const [key, ids] of answers) expect(new Set(ids).size, `submissions named for key ${key}`).to.equal(1);
  return [...answers.values()].map((ids) => ids[0] ?? '');
}

/**
 * The tenant's webhook told of each terminal state once, by the store's record: one webhook job
 * (the store enqueues it only when a change moves the submission into a terminal state), done,
 * and one `notified` event; and the receiver got a signed notification of it, saying delivered
 * (more than one is allowed: a process killed after the POST and before recording it sends again).
 */
export function expectNotifiedOnce(records: readonly SubmissionRecords[], received: WebhookReceiver['received']): void {
  const notified = new Set(received.filter((n) => n.verified && n.body.status === 'delivered').map((n) => n.body.submissionId));
  for (const r of records) {
    expect(r.jobs.filter((j) => j.kind === 'webhook').map((j) => j.state), `submission ${r.id}: webhook jobs`).to.deep.equal(['done']);
    expect(countEvents(r.events, 'notified'), `submission ${r.id}: notified events`).to.equal(1);
    expect(notified.has(r.id), `submission ${r.id}: a signed notification`).to.equal(true);
  }
}
