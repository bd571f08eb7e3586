/**
 * Issue 8, reliability 3: partner outages during a load. For a few seconds the DMP sandbox answers
 * every call with HTTP 503 and the MSSanté sandbox every message with a 451 for the recipient,
 * then for a few more both drop their connections: nothing is settled meanwhile, the submissions
 * wait (retrying, with the error and the next attempt; the circuit breaker spacing the attempts)
 * and complete once the sandboxes answer again, each document filed once. A permanent error goes
 * to the dead letter at once, with the partner's code and text: an XDS error from the DMP, a 5xx
 * reply from SMTP.
 *
 * The DMP patient check (TD0.2) is off here, so that every DMP call is one ITI-41 and each fault
 * lands on a filing: an injected XDS error is then answered to the call it is meant for.
 */
import { expect } from 'chai';
import { isSignatureEntry } from '../../src/sim/dmp/registry-rules.js';
import { XDS_ERROR } from '../../src/xds/vocabulary.js';
import { TERMINAL_STATUSES } from '../../src/domain/submission.js';
import { FAST_PIPELINE, GatewayProcess, ReportFeeder, gatewayEnv, statusesOf, usePipelineWorld, waitUntilTerminal, type Sandboxes, type SharedStore } from '../support/gateway-process.js';
import { asObject, countEvents, destinationOf, expectDeliveredOnce, expectOneSubmissionPerKey, readRecords, type SubmissionRecords } from './expectations.js';

const TENANT = 'outages';
const LOAD = 30;
const POSTING_LOOPS = 4;
/** The teleconsultation fixture's one MSSanté recipient, its médecin traitant. */
const RECIPIENT = 'bernard.vacquier@medecin.mssante.fr';
const MSS_DESTINATION = `mss:${RECIPIENT}`;
/** Faults armed for "every call" of an outage: far more than the calls made while it lasts. */
const OUTAGE_CALLS = 100_000;
/** How long each kind of outage lasts: longer than the breaker's longest pause (16 × its cooldown), so attempts meet it. */
const OUTAGE_PHASE_MS = 2500;
const BREAKER_COOLDOWN_MS = '100';
/** The sandbox's codeContext of an injected XDS error: the "text" the DMP gives with its code. */
const INJECTED_ERROR_TEXT = 'error injected by the sandbox';
const SETTLE_TIMEOUT_MS = 45_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Error codes and how often they came, e.g. `partner-unavailable ×12, 451 4.3.0 ×3`. */
function summary(errors: readonly { code: string }[]): string {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e.code, (counts.get(e.code) ?? 0) + 1);
  return [...counts].map(([code, n]) => `${code} ×${String(n)}`).join(', ') || 'none';
}

describe('the pipeline through partner outages', function () {
  this.timeout(90_000);
  const world = usePipelineWorld('sqlite', TENANT);

  before(async () => {
    const { sandboxes, shared, dataDir, gateways } = world();
    gateways.push(await GatewayProcess.start('gateway', gatewayEnv(sandboxes, shared, dataDir, {
      ...FAST_PIPELINE,
      PASSERELLE_DMP_PATIENT_CHECK: 'skip',
      // Enough attempts that no unlucky submission, hit by fault after fault, runs out of them:
      // only the permanent errors below may reach the dead letter.
      PASSERELLE_RETRY_MAX_ATTEMPTS: '40',
      PASSERELLE_BREAKER_COOLDOWN_MS: BREAKER_COOLDOWN_MS,
    })));
  });

  const setUp = (): { sandboxes: Sandboxes; shared: SharedStore; gateway: GatewayProcess } => {
    const { sandboxes, shared, gateways: [gateway] } = world();
    if (gateway === undefined) throw new Error('no gateway');
    return { sandboxes, shared, gateway };
  };

  /** Posts reports `prefix-0…` to the gateway and waits until all are terminal; their records. */
  const run = async (prefix: string, count: number): Promise<SubmissionRecords[]> => {
    const { shared: s, gateway: g } = setUp();
    const feeder = new ReportFeeder({ token: s.token, prefix, target: () => g.url });
    await feeder.submitAll(count, Math.min(count, POSTING_LOOPS));
    const ids = expectOneSubmissionPerKey(feeder.answers, count);
    await waitUntilTerminal(s.store, TENANT, ids, SETTLE_TIMEOUT_MS);
    return readRecords(s.store, TENANT, ids);
  };

  /** The errors of a destination's `retrying` events, each checked to carry its attempt and next attempt time. */
  const retryingErrors = (records: readonly SubmissionRecords[], destination: string): { code: string; message: string }[] => {
    const errors: { code: string; message: string }[] = [];
    for (const r of records) {
      for (const e of r.events.filter((x) => x.type === 'retrying' && destinationOf(x) === destination)) {
        const data = asObject(e.data);
        const next = typeof data.nextAttemptAt === 'string' ? new Date(data.nextAttemptAt) : undefined;
        expect(next?.getTime(), `submission ${r.id}: nextAttemptAt of a retrying event`).to.be.at.least(e.at.getTime());
        expect(data.attempt, `submission ${r.id}: attempt of a retrying event`).to.be.a('number');
        const error = asObject(data.error);
        expect(error.code, `submission ${r.id}: error code of a retrying event`).to.be.a('string').and.not.equal('');
        errors.push({ code: typeof error.code === 'string' ? error.code : '', message: typeof error.message === 'string' ? error.message : '' });
      }
    }
    return errors;
  };

  it('waits through DMP and MSSanté outages, then delivers every report once', async () => {
    const { sandboxes: s, shared: st, gateway: g } = setUp();
    // Down: the DMP answers 503, the recipient's server 451, to every call, for a while.
    s.dmp.faults.add({ kind: 'http-503', count: OUTAGE_CALLS });
    s.mss.smtp.faults.recipient(RECIPIENT, { code: 451, enhancedCode: '4.3.0', text: 'try again later (fault injection)', count: OUTAGE_CALLS });
    const feeder = new ReportFeeder({ token: st.token, prefix: 'outage', target: () => g.url });
    await feeder.submitAll(LOAD, POSTING_LOOPS);
    const ids = expectOneSubmissionPerKey(feeder.answers, LOAD);
    await pause(OUTAGE_PHASE_MS);
    // Then both drop their connections instead.
    s.dmp.faults.clear();
    s.dmp.faults.add({ kind: 'drop', count: OUTAGE_CALLS });
    s.mss.smtp.faults.clear();
    s.mss.smtp.faults.dropConnections(OUTAGE_CALLS);
    await pause(OUTAGE_PHASE_MS);
    const during = await statusesOf(st.store, TENANT);
    expect(ids.filter((id) => TERMINAL_STATUSES.includes(during.get(id) ?? 'received')), 'submissions settled while the DMP was down').to.deep.equal([]);
    // Back.
    s.dmp.faults.clear();
    s.mss.smtp.faults.clear();
    await waitUntilTerminal(st.store, TENANT, ids, SETTLE_TIMEOUT_MS);

    const records = await readRecords(st.store, TENANT, ids);
    expectDeliveredOnce(records, s);
    const dmpErrors = retryingErrors(records, 'dmp');
    const mssErrors = retryingErrors(records, MSS_DESTINATION);
    expect(dmpErrors.some((e) => /\b503\b/.test(e.message)), `a DMP attempt met the 503 (${summary(dmpErrors)})`).to.equal(true);
    expect(dmpErrors.some((e) => /reset|closed/i.test(e.message)), `a DMP attempt met a dropped connection (${summary(dmpErrors)})`).to.equal(true);
    expect(mssErrors.some((e) => e.code === '451 4.3.0'), `an MSSanté attempt met the 451 (${summary(mssErrors)})`).to.equal(true);
    expect(mssErrors.some((e) => /reset|closed/i.test(e.message)), `an MSSanté attempt met a dropped connection (${summary(mssErrors)})`).to.equal(true);
    console.log(`      retrying events: DMP ${summary(dmpErrors)}; MSSanté ${summary(mssErrors)}`);
  });

  it('dead-letters a permanent DMP error at once, with the DMP\'s code and text', async () => {
    const { sandboxes: s } = setUp();
    const filedBefore = s.dmp.store.currentEntries().filter((e) => !isSignatureEntry(e)).length;
    s.dmp.faults.add({ kind: 'registry-error', count: 1, errorCode: XDS_ERROR.PatientIdDoesNotMatch });

    const [record] = await run('permanent-dmp', 1);
    if (record === undefined) throw new Error('no record');
    expect(record.status).to.equal('failed');
    const dmp = record.deliveries.find((d) => d.destination === 'dmp');
    expect(dmp?.status).to.equal('failed');
    const error = asObject(asObject(dmp?.detail).error);
    expect(error.code).to.equal(XDS_ERROR.PatientIdDoesNotMatch);
    expect(error.message).to.be.a('string').that.includes(INJECTED_ERROR_TEXT);
    const failures = record.events.filter((e) => e.type === 'delivery-failed' && destinationOf(e) === 'dmp');
    expect(failures, 'delivery-failed events of the DMP').to.have.length(1);
    expect(asObject(failures[0]?.data).deadLetter).to.equal(true);
    expect(asObject(asObject(failures[0]?.data).error).code).to.equal(XDS_ERROR.PatientIdDoesNotMatch);
    expect(countEvents(record.events, 'retrying', 'dmp'), 'a permanent error is not retried').to.equal(0);
    expect(record.jobs.filter((j) => j.kind === 'dmp').map((j) => ({ state: j.state, attempts: j.attempts }))).to.deep.equal([{ state: 'dead', attempts: 1 }]);
    // The other destination is its own: the médecin traitant still got the report.
    expect(record.deliveries.find((d) => d.destination === MSS_DESTINATION)?.status).to.be.oneOf(['sent', 'delivered']);
    expect(s.dmp.store.currentEntries().filter((e) => !isSignatureEntry(e)).length, 'documents filed').to.equal(filedBefore);
  });

  it('dead-letters a recipient the MSSanté server refuses for good, with its reply code', async () => {
    const { sandboxes: s } = setUp();
    s.mss.smtp.faults.recipient(RECIPIENT, { code: 550, enhancedCode: '5.1.1', text: 'no such mailbox (fault injection)', count: 1 });

    const [record] = await run('permanent-mss', 1);
    if (record === undefined) throw new Error('no record');
    expect(record.status).to.equal('failed');
    const mss = record.deliveries.find((d) => d.destination === MSS_DESTINATION);
    expect(mss?.status).to.equal('failed');
    expect(asObject(asObject(mss?.detail).error).code).to.equal('550 5.1.1');
    const failures = record.events.filter((e) => e.type === 'delivery-failed' && destinationOf(e) === MSS_DESTINATION);
    expect(failures, 'delivery-failed events of the recipient').to.have.length(1);
    expect(asObject(failures[0]?.data).deadLetter).to.equal(true);
    expect(countEvents(record.events, 'retrying', MSS_DESTINATION), 'a permanent refusal is not retried').to.equal(0);
    // The dead letter: the MSSanté job is dead, with the reply that refused it.
    expect(record.jobs.filter((j) => j.kind === 'mss').map((j) => ({ state: j.state, attempts: j.attempts, code: asObject(j.lastError).code }))).to.deep.equal([{ state: 'dead', attempts: 1, code: '550 5.1.1' }]);
    expect(record.deliveries.find((d) => d.destination === 'dmp')?.status).to.be.oneOf(['sent', 'delivered']);
  });
});
