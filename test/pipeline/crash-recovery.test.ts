/**
 * Issue 8, reliability 1: the gateway is killed with SIGKILL at random moments while it takes in
 * and delivers a stream of reports to the DMP and MSSanté sandboxes, and restarted on the same
 * store each time. Afterwards every submission reaches exactly one terminal state, delivered, and
 * the DMP sandbox holds each document exactly once: a document filed by a process that died
 * before it could record it is recognised as filed (ITI-18), not filed again.
 *
 * Only the kill moments are random; the seed is printed, and TEST_SEED=<seed> replays a run.
 */
import { expect } from 'chai';
import { FAST_PIPELINE, GatewayProcess, ReportFeeder, gatewayEnv, statusesOf, usePipelineWorld, waitUntilTerminal } from '../support/gateway-process.js';
import { expectDeliveredOnce, expectNotifiedOnce, expectOneSubmissionPerKey, readRecords } from './expectations.js';

const TENANT = 'crash';
const REPORTS = 60;
const POSTING_LOOPS = 4;
/** Between two reports of one posting loop: the stream lasts through the kills. */
const POSTING_PACE_MS = 120;
/** A kill lands this long after the gateway said it was ready: within the work, never at once. */
const KILL_AFTER_MS = { min: 600, max: 2500 } as const;
const SETTLE_TIMEOUT_MS = 45_000;

/** mulberry32: a small seeded generator, so that a failing run's kill moments can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`the pipeline through kill -9 of its gateway (${kind})`, function () {
    this.timeout(90_000);
    const world = usePipelineWorld(kind, TENANT);

    it('settles every submission once, and files each document in the DMP once', async () => {
      const { sandboxes, shared, dataDir, webhook, gateways } = world();
      const seed = process.env.TEST_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.TEST_SEED);
      const random = seededRandom(seed);
      const kills = 3 + Math.floor(random() * 2);
      console.log(`      seed ${String(seed)} (TEST_SEED=${String(seed)} replays it): ${String(kills)} kills`);

      const env = gatewayEnv(sandboxes, shared, dataDir, { ...FAST_PIPELINE, PASSERELLE_CONFIG: webhook.configFile(dataDir, TENANT) });
      const start = async (): Promise<GatewayProcess> => {
        const g = await GatewayProcess.start(`gateway ${String(gateways.length + 1)}`, env);
        gateways.push(g);
        return g;
      };
      let current: GatewayProcess | undefined = await start();
      const feeder = new ReportFeeder({ token: shared.token, prefix: `crash-${String(seed)}`, target: () => current?.url });
      const feeding = feeder.submitAll(REPORTS, POSTING_LOOPS, POSTING_PACE_MS);

      const store = shared.store;
      const killing = (async () => {
        for (let k = 1; k <= kills; k++) {
          const after = KILL_AFTER_MS.min + Math.floor(random() * (KILL_AFTER_MS.max - KILL_AFTER_MS.min));
          await new Promise((resolve) => setTimeout(resolve, after));
          const victim = current;
          current = undefined;
          await victim?.kill();
          const statuses = [...(await statusesOf(store, TENANT)).values()];
          console.log(`      kill ${String(k)}, ${String(after)} ms after ready: ${String(statuses.length)} submissions, ${String(statuses.filter((s) => s === 'delivered').length)} delivered`);
          expect(victim?.child.signalCode).to.equal('SIGKILL');
          current = await start();
        }
      })();
      await Promise.all([feeding, killing]);

      const ids = expectOneSubmissionPerKey(feeder.answers, REPORTS);
      await waitUntilTerminal(store, TENANT, ids, SETTLE_TIMEOUT_MS);
      // Nothing half-made by a kill: the store holds the accepted submissions and no other.
      expect([...(await statusesOf(store, TENANT)).keys()].sort()).to.deep.equal([...ids].sort());
      const records = await readRecords(store, TENANT, ids);
      const stats = expectDeliveredOnce(records, sandboxes);
      expectNotifiedOnce(records, webhook.received);
      console.log(`      ${String(feeder.resent)} POSTs sent again, ${String(stats.retries)} retrying events, ${String(stats.foundByQuery)} DMP filings found already registered, ${String(stats.mssResent)} MSSanté messages sent twice`);
      await current.stop();
    });
  });
}
