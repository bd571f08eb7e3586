/**
 * The pipeline in one gateway, in process, against the DMP and MSSanté sandboxes over real TLS:
 * a report reaches `delivered` with its receipts; the tenant's webhook is told, signed; an
 * operator's pause holds one destination while the other goes on; a DMP that keeps failing
 * opens the circuit; a document the DMP already holds (a lost answer) is found by ITI-18 and
 * counted as filed, not filed twice. The reliability tests with real processes are beside it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEV_PKI_FILES } from '../../src/cli/commands/pki.js';
import { loadConfig } from '../../src/config/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { verifyAuditChain } from '../../src/store/audit-chain.js';
import { createLogger } from '../../src/support/logger.js';
import { call } from '../support/gateway.js';
import { testClient } from '../support/dmp.js';
import { FAST_PIPELINE, gatewayEnv, postReport, reportBody, sharedStore, startSandboxes, startWebhookReceiver, waitUntilTerminal, type Sandboxes, type SharedStore, type WebhookReceiver } from '../support/gateway-process.js';

const TENANT = 'clinique';

describe('the delivery pipeline, in one gateway against the sandboxes (real TLS on loopback)', function () {
  this.timeout(120_000);
  let sandboxes: Sandboxes;
  let shared: SharedStore;
  let webhook: WebhookReceiver;
  let dir: string;
  let gateway: Gateway;
  let n = 0;

  before(async function () {
    sandboxes = await startSandboxes();
    shared = await sharedStore(this, 'sqlite', TENANT);
    webhook = await startWebhookReceiver();
    dir = mkdtempSync(join(tmpdir(), 'passerelle-delivery-'));
    const env = gatewayEnv(sandboxes, shared, dir, { ...FAST_PIPELINE, PASSERELLE_BREAKER_THRESHOLD: '2', PASSERELLE_BREAKER_COOLDOWN_MS: '1500', PASSERELLE_CONFIG: webhook.configFile(dir, TENANT) });
    gateway = await startGateway(loadConfig(env), createLogger('silent'), shared.store);
  });
  after(async function () {
    await gateway?.close();
    await webhook?.close();
    await sandboxes?.close();
    await shared?.release(this.currentTest?.state === 'failed');
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const post = async (): Promise<string> => {
    n += 1;
    const result = await postReport(gateway.url, shared.token, `delivery-${String(n)}`, reportBody('delivery', n));
    expect(result.status).to.equal(202);
    return result.id ?? '';
  };
  const get = (path: string): Promise<{ status: number; body: any }> => call(`${gateway.url}${path}`, { token: shared.token });
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`still not ${what} after ${String(timeoutMs)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('files a report in the DMP and sends it by MSSanté: delivered, with its receipts, its document, a signed webhook and an intact audit chain', async () => {
    const before = sandboxes.dmp.store.documentCount();
    const id = await post();
    const statuses = await waitUntilTerminal(shared.store, TENANT, [id], 30_000);
    expect(statuses.get(id)).to.equal('delivered');
    expect(sandboxes.dmp.store.documentCount(), 'the CDA and its signature document').to.equal(before + 2);

    const receipts = (await get(`/v1/submissions/${id}/receipts`)).body;
    const document = await call(`${gateway.url}/v1/submissions/${id}/document`, { token: shared.token });
    const dmp = receipts.items.find((r: { destination: string }) => r.destination === 'dmp');
    expect(dmp).to.include({ status: 'delivered' });
    expect(dmp.uniqueId).to.be.a('string');
    expect(dmp.submissionSetUniqueId).to.be.a('string');
    expect(sandboxes.dmp.store.entriesByUniqueId(dmp.uniqueId).map((e) => e.entryUUID)).to.deep.equal([dmp.entryUUID]);
    // The DMP holds exactly the signed document the platform can fetch.
    expect(sandboxes.dmp.store.content(dmp.uniqueId)?.toString('utf8')).to.equal(typeof document.body === 'string' ? document.body : '');
    expect(String(document.body)).to.match(/^<(\?xml[^>]*\?>\s*<)?ds:Signature/);

    const mail = sandboxes.mss.smtp.received().find((m) => m.messageId?.includes(id) === true);
    expect(mail?.to).to.have.length.above(0);
    const mss = (await get(`/v1/submissions/${id}`)).body.deliveries.filter((d: { destination: string }) => d.destination.startsWith('mss:'));
    expect(mss.map((d: { reference: string }) => d.reference)).to.deep.equal(mss.map(() => mail?.messageId));

    await until('notified', () => Promise.resolve(webhook.received.some((w) => w.body.submissionId === id)));
    const notification = webhook.received.find((w) => w.body.submissionId === id);
    expect(notification).to.deep.include({ verified: true });
    expect(notification?.body.status).to.equal('delivered');

    const events = (await shared.store.listEvents(TENANT, id)) ?? [];
    expect(events.map((e) => e.type)).to.include.members(['received', 'validated', 'built', 'signed', 'sent', 'notified']);
    expect(verifyAuditChain(events).broken).to.deep.equal([]);
  });

  it('holds the DMP while an operator pauses it, sends by MSSanté meanwhile, and files it once resumed', async () => {
    await shared.store.pauseJobs({ kind: 'dmp', pausedAt: new Date(), pausedBy: 'cli:test', reason: 'DMP maintenance' });
    try {
      const id = await post();
      await until('sent by MSSanté', async () => ((await shared.store.listDeliveries(TENANT, id)) ?? []).some((d) => d.destination.startsWith('mss:') && d.status !== 'pending'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const held = await shared.store.listDeliveries(TENANT, id);
      expect(held?.find((d) => d.destination === 'dmp')?.status).to.equal('pending');
      expect((await shared.store.getSubmission(TENANT, id))?.status).to.equal('sending');
      // The platform sees why: the DMP delivery is held by the operator's pause, the others are not.
      const seen = (await get(`/v1/submissions/${id}`)).body.deliveries as { destination: string; heldBy?: { pause: { reason: string } } }[];
      expect(seen.find((d) => d.destination === 'dmp')?.heldBy?.pause.reason).to.equal('DMP maintenance');
      expect(seen.filter((d) => d.destination !== 'dmp').map((d) => d.heldBy)).to.deep.equal(seen.filter((d) => d.destination !== 'dmp').map(() => undefined));
      expect(await shared.store.resumeJobs('dmp')).to.equal(true);
      gateway.worker.wake();
      expect((await waitUntilTerminal(shared.store, TENANT, [id], 20_000)).get(id)).to.equal('delivered');
    } finally {
      await shared.store.resumeJobs('dmp');
    }
  });

  it('opens the DMP circuit after consecutive failures, probes it after the cooldown, and completes when the DMP is back', async () => {
    sandboxes.dmp.faults.add({ kind: 'http-503', count: 1_000 });
    try {
      const id = await post();
      await until('open', () => Promise.resolve(gateway.worker.breakerStates().get('dmp') === 'open'));
      const metrics = String((await call(`${gateway.url}/metrics`)).body);
      expect(metrics).to.match(/passerelle_circuit_breaker_state\{kind="dmp"\} 2/);
      const delivery = (await shared.store.listDeliveries(TENANT, id))?.find((d) => d.destination === 'dmp');
      expect(delivery?.status).to.equal('retrying');
      expect(delivery?.detail).to.have.nested.property('error.code', 'partner-unavailable');
      expect(delivery?.detail).to.have.property('nextAttemptAt').that.is.a('string');
      // While open, the DMP gets no call at all: the faults left are not consumed.
      const left = sandboxes.dmp.faults.state().pending[0]?.count ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(sandboxes.dmp.faults.state().pending[0]?.count ?? 0).to.equal(left);
      sandboxes.dmp.faults.clear();
      expect((await waitUntilTerminal(shared.store, TENANT, [id], 30_000)).get(id)).to.equal('delivered');
      expect(gateway.worker.breakerStates().get('dmp')).to.equal('closed');
    } finally {
      sandboxes.dmp.faults.clear();
    }
  });

  it('counts a document the DMP already holds (its answer was lost) as filed, found by ITI-18, and does not file it twice', async () => {
    await shared.store.pauseJobs({ kind: 'dmp', pausedAt: new Date(), pausedBy: 'cli:test', reason: null });
    let id = '';
    try {
      id = await post();
      await until('built', async () => (await shared.store.getDocument(TENANT, id)) !== undefined);
      const document = await shared.store.getDocument(TENANT, id);
      // What a first attempt did before its answer was lost: the DMP registered the document.
      const direct = testClient(sandboxes.pki, sandboxes.dmp, { signer: sandboxes.pki.identity(DEV_PKI_FILES.orgSign) });
      const filed = await direct.file(document?.xml ?? Buffer.alloc(0));
      expect(filed.verdict.outcome).to.equal('success');
    } finally {
      await shared.store.resumeJobs('dmp');
    }
    gateway.worker.wake();
    expect((await waitUntilTerminal(shared.store, TENANT, [id], 20_000)).get(id)).to.equal('delivered');
    const delivery = (await shared.store.listDeliveries(TENANT, id))?.find((d) => d.destination === 'dmp');
    expect(delivery?.detail).to.include({ foundByQuery: true });
    expect(sandboxes.dmp.store.entriesByUniqueId(delivery?.reference ?? '')).to.have.length(1);
  });
});
