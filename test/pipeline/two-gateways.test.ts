/**
 * Issue 8, reliability 2: two gateway processes share one PostgreSQL store (a fresh schema) and
 * its queue, and 1,000 reports are posted across both. Each is delivered, none is lost, and no
 * document is filed twice: the two workers never hold the same job at once (FOR UPDATE SKIP
 * LOCKED, leases), so each submission has a single `sent` for the DMP.
 */
import { expect } from 'chai';
import { FAST_PIPELINE, GatewayProcess, ReportFeeder, gatewayEnv, statusesOf, usePipelineWorld, waitUntilTerminal } from '../support/gateway-process.js';
import { expectDeliveredOnce, expectNotifiedOnce, expectOneSubmissionPerKey, readRecords } from './expectations.js';

const TENANT = 'pair';
const REPORTS = 1000;
const POSTING_LOOPS = 8;
/**
 * The pipeline is CPU-bound here: on a 2-core machine the two gateways, the sandboxes and
 * PostgreSQL share the cores, and 1,000 reports take 50–85 s to deliver (about 12–18 a second).
 */
const SETTLE_TIMEOUT_MS = 110_000;
/** The pair's lease: long enough that no call outlives it here, so a takeover would be a bug. */
const LEASE_MS = '30000';

describe('two gateway processes on one PostgreSQL store', function () {
  this.timeout(180_000);
  const world = usePipelineWorld('postgres', TENANT);

  it('delivers 1,000 reports posted across both, each filed in the DMP once', async () => {
    const { sandboxes, shared, dataDir, webhook, gateways } = world();
    const env = gatewayEnv(sandboxes, shared, dataDir, { ...FAST_PIPELINE, PASSERELLE_WORKER_LEASE_MS: LEASE_MS, PASSERELLE_CONFIG: webhook.configFile(dataDir, TENANT) });
    gateways.push(...(await Promise.all([GatewayProcess.start('gateway A', env), GatewayProcess.start('gateway B', env)])));
    const urls = gateways.map((g) => g.url);
    const started = Date.now();
    const feeder = new ReportFeeder({ token: shared.token, prefix: 'pair', target: (n) => urls[n % urls.length] });
    await feeder.submitAll(REPORTS, POSTING_LOOPS);
    const posted = Date.now();

    const ids = expectOneSubmissionPerKey(feeder.answers, REPORTS);
    await waitUntilTerminal(shared.store, TENANT, ids, SETTLE_TIMEOUT_MS);
    const settled = Date.now();
    expect((await statusesOf(shared.store, TENANT)).size, 'submissions in the store').to.equal(REPORTS);
    const records = await readRecords(shared.store, TENANT, ids);
    const stats = expectDeliveredOnce(records, sandboxes);
    expectNotifiedOnce(records, webhook.received);
    console.log(`      posted in ${String(posted - started)} ms, all delivered ${String(settled - started)} ms after the first POST (${(REPORTS / ((settled - started) / 1000)).toFixed(1)} reports/s); ${String(stats.retries)} retrying events, ${String(stats.mssResent)} MSSanté messages sent twice`);
    await Promise.all(gateways.map((g) => g.stop()));
  });
});
