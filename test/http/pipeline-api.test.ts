import { expect } from 'chai';
import { createApiKey } from '../../src/auth/api-keys.js';
import { JOB_KINDS, type SubmissionStatus } from '../../src/domain/submission.js';
import type { DeliveryRecord, Json, NewEvent, Store } from '../../src/store/store.js';
import { newId } from '../../src/support/new-id.js';
import { fixture } from '../support/fixtures.js';
import { call, startTestGateway, type StoreKind, type TestGateway } from '../support/gateway.js';

/**
 * Submissions put in the state a test needs straight through the store (the pipeline is paused
 * for the whole suite, so the worker never touches them).
 */
class Fixtures {
  #documents = 0;
  constructor(private readonly store: Store, private readonly tenantId = 'acme') {}

  async received(requestId = newId('req')): Promise<string> {
    // Bulk replay goes oldest first: a millisecond apart, creation order is that order.
    await new Promise((resolve) => setTimeout(resolve, 2));
    const id = newId('sub');
    const at = new Date();
    await this.store.createSubmission({ id, tenantId: this.tenantId, idempotencyKey: null, requestHash: 'h', requestId, actType: 'TELEEXPERTISE', input: fixture('teleexpertise'), createdAt: at, events: [{ type: 'received', at, actor: 'apikey:test', data: {} }] });
    return id;
  }

  /** A submission that was built, signed and sent, then failed on the given destinations. */
  async failed(options: { failed: readonly { destination: string; code: string }[]; delivered?: readonly string[]; document?: boolean }): Promise<string> {
    const id = await this.received();
    const at = new Date();
    const events: NewEvent[] = [];
    const deliveries: DeliveryRecord[] = [];
    if (options.document !== false) {
      events.push({ type: 'built', at, actor: 'worker', data: { documentType: 'tlm-cr', volet: 'TLM-CR_2022.01', documentId: 'x', versionNumber: 1, bytes: 1, warnings: 0 } }, { type: 'signed', at, actor: 'worker', data: { documentId: 'x', signer: 'TEST' } });
    }
    for (const d of options.delivered ?? []) {
      events.push({ type: 'sent', at, actor: 'worker', data: { destination: d, reference: `ref-${d}`, attempt: 1 } });
      deliveries.push({ submissionId: id, destination: d, status: 'sent', reference: `ref-${d}`, detail: { attempts: 1 }, updatedAt: at });
    }
    for (const { destination, code } of options.failed) {
      const error = { code, message: `refused: ${code}` };
      events.push({ type: 'retrying', at, actor: 'worker', data: { destination, attempt: 1, nextAttemptAt: new Date(at.getTime() + 2000).toISOString(), error } });
      events.push({ type: 'delivery-failed', at, actor: 'worker', data: { destination, attempt: 2, error, deadLetter: true } });
      deliveries.push({ submissionId: id, destination, status: 'failed', reference: destination === 'dmp' ? null : `<m-${id}@test>`, detail: { attempts: 2, error, nextAttemptAt: at.toISOString(), ...(destination === 'dmp' ? {} : { role: 'destinataire' }) }, updatedAt: at });
    }
    const statusPath: SubmissionStatus[] = options.document === false ? ['failed'] : ['built', 'signed', 'sending', 'failed'];
    const ok = await this.store.applyChange({
      submissionId: id,
      at,
      expectStatus: ['received'],
      ...(options.document === false ? {} : { document: this.#document(id, at) }),
      deliveries,
      events: options.document === false ? [{ type: 'build-failed', at, actor: 'worker', data: { code: 'document-invalid', detail: 'the CDA breaks 1 rule', violations: [] } }, ...events] : events,
      statusPath,
    });
    expect(ok).to.equal(true);
    return id;
  }

  /** Delivered: the DMP registered it, one MSSanté recipient acknowledged it. */
  async delivered(): Promise<string> {
    const id = await this.received();
    const at = new Date();
    const acknowledgedAt = new Date(at.getTime() + 1000);
    const ok = await this.store.applyChange({
      submissionId: id,
      at,
      document: this.#document(id, at),
      deliveries: [
        { submissionId: id, destination: 'dmp', status: 'sent', reference: '1.2.250.1.999.1.7', detail: { attempts: 1, uniqueId: '1.2.250.1.999.1.7', entryUUID: 'urn:uuid:00000000-0000-4000-8000-000000000001', submissionSetUniqueId: '1.2.250.1.999.2.7' }, updatedAt: at },
        { submissionId: id, destination: 'mss:dr.house@test.mssante.fr', status: 'delivered', reference: '<m1@test>', detail: { attempts: 1, role: 'destinataire', acknowledgement: 'processed', acknowledgedAt: acknowledgedAt.toISOString() }, updatedAt: acknowledgedAt },
        { submissionId: id, destination: 'mss:medecin-traitant', status: 'skipped', reference: null, detail: { attempts: 0, reason: 'not-requested' }, updatedAt: at },
      ],
      events: [
        { type: 'built', at, actor: 'worker', data: {} },
        { type: 'signed', at, actor: 'worker', data: {} },
        { type: 'sent', at, actor: 'worker', data: { destination: 'dmp', reference: '1.2.250.1.999.1.7', attempt: 1 } },
        { type: 'sent', at, actor: 'worker', data: { destination: 'mss:dr.house@test.mssante.fr', reference: '<m1@test>', attempt: 1 } },
        { type: 'acknowledged', at: acknowledgedAt, actor: 'worker', data: { destination: 'mss:dr.house@test.mssante.fr', acknowledgement: 'processed' } },
        { type: 'validated', at, actor: 'worker', data: {} },
      ],
      statusPath: ['built', 'signed', 'sending', 'delivered'],
    });
    expect(ok).to.equal(true);
    return id;
  }

  #document(submissionId: string, at: Date) {
    this.#documents += 1;
    const documentId = `1.2.250.1.999.${String(Date.now())}.${String(this.#documents)}`;
    return { submissionId, type: 'tlm-cr', volet: 'TLM-CR_2022.01', documentId, setId: `${documentId}.9`, versionNumber: 1, xml: Buffer.from('<ClinicalDocument/>'), pdf: null, builtAt: at };
  }
}

const detailOf = (d: DeliveryRecord | undefined): Record<string, Json> => d?.detail as Record<string, Json>;

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`the pipeline API: timeline, receipts, replay, pauses (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    let store: Store;
    let make: Fixtures;
    let otherSupport: string;
    before(async function () {
      gw = await startTestGateway(this, kind, { PASSERELLE_OPERATOR_TENANTS: 'acme' });
      store = gw.gateway.store;
      // Nothing moves on its own: the tests set every state through the store.
      for (const k of JOB_KINDS) await store.pauseJobs({ kind: k, pausedAt: new Date(), pausedBy: 'test', reason: 'test suite' });
      make = new Fixtures(store);
      otherSupport = (await createApiKey(store, { tenantId: 'globex', role: 'support', label: 'globex support' })).token;
    });
    after(async function () { await gw?.close(this.currentTest?.state === 'failed'); });

    const get = (path: string, token = gw.keys.support) => call(`${gw.url}${path}`, { token });
    const post = (path: string, body?: unknown, token = gw.keys.support) => call(`${gw.url}${path}`, { method: 'POST', token, ...(body === undefined ? {} : { body }) });

    describe('reading where a document is', () => {
      it('shows each delivery of a submission with its attempts, next attempt and last error', async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'XDSPatientIdDoesNotMatch' }], delivered: ['mss:a@test.mssante.fr'] });
        const res = await get(`/v1/submissions/${id}`, gw.keys.submitter);
        expect(res.status).to.equal(200);
        expect(res.body.status).to.equal('failed');
        expect(res.body.links).to.include({ timeline: `/v1/submissions/${id}/timeline`, receipts: `/v1/submissions/${id}/receipts` });
        const byDestination = Object.fromEntries((res.body.deliveries as any[]).map((d) => [d.destination, d]));
        expect(byDestination.dmp).to.deep.include({ status: 'failed', reference: null, attempts: 2, error: { code: 'XDSPatientIdDoesNotMatch', message: 'refused: XDSPatientIdDoesNotMatch' } });
        expect(byDestination.dmp.nextAttemptAt).to.be.a('string');
        expect(byDestination['mss:a@test.mssante.fr']).to.deep.include({ status: 'sent', reference: 'ref-mss:a@test.mssante.fr', attempts: 1, nextAttemptAt: null, error: null });
        expect((await get(`/v1/submissions/${await make.received()}`)).body.deliveries).to.deep.equal([]);
      });

      it('finds the submission of a request by its request id', async () => {
        const requestId = `trace-${String(Date.now())}`;
        const id = await make.received(requestId);
        await make.received();
        const res = await get(`/v1/submissions?requestId=${requestId}`, gw.keys.submitter);
        expect(res.status).to.equal(200);
        expect(res.body.items.map((s: { id: string }) => s.id)).to.deep.equal([id]);
        const bad = await get('/v1/submissions?requestId=a%20b&status=lost');
        expect(bad.status).to.equal(400);
        expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).to.have.members(['/query/requestId', '/query/status']);
      });

      it('gives the timeline of the submission and of each destination, retrying with its next attempt and error', async () => {
        const id = await make.failed({ failed: [{ destination: 'mss:b@test.mssante.fr', code: '550 5.1.1' }], delivered: ['dmp'] });
        const res = await get(`/v1/submissions/${id}/timeline`, gw.keys.submitter);
        expect(res.status).to.equal(200);
        expect(res.body).to.include({ submissionId: id, status: 'failed' });
        expect(res.body.requestId).to.be.a('string');
        expect(res.body.entries.map((e: { status: string }) => e.status)).to.deep.equal(['received', 'built', 'signed', 'sent', 'retrying', 'failed']);
        const mss = res.body.destinations['mss:b@test.mssante.fr'];
        expect(mss.status).to.equal('failed');
        expect(mss.entries.map((e: { status: string }) => e.status)).to.deep.equal(['retrying', 'failed']);
        expect(mss.entries[0].nextAttemptAt).to.be.a('string');
        expect(mss.entries[0].error).to.deep.equal({ code: '550 5.1.1', message: 'refused: 550 5.1.1' });
        expect(mss.entries[1]).to.include({ type: 'delivery-failed', destination: 'mss:b@test.mssante.fr', actor: 'worker' });
        expect(res.body.destinations.dmp).to.deep.equal({ status: 'sent', entries: [res.body.entries[3]] });
      });

      it('ends the timeline of a delivered submission with "delivered", and says why a build failed', async () => {
        const delivered = await get(`/v1/submissions/${await make.delivered()}/timeline`);
        expect(delivered.body.entries.map((e: { status: string }) => e.status)).to.deep.equal(['received', 'built', 'signed', 'sent', 'sent', 'acknowledged', 'delivered']);
        expect(delivered.body.destinations['mss:medecin-traitant']).to.deep.equal({ status: 'skipped', entries: [] });
        const buildFailed = await get(`/v1/submissions/${await make.failed({ failed: [], document: false })}/timeline`);
        expect(buildFailed.body.entries[1]).to.deep.include({ type: 'build-failed', status: 'failed', error: { code: 'document-invalid', message: 'the CDA breaks 1 rule' } });
        expect(buildFailed.body.destinations).to.deep.equal({});
      });

      it('gives the receipts: the DMP ids, the MSSanté Message-ID and acknowledgement; none for a destination not fed', async () => {
        const id = await make.delivered();
        const res = await get(`/v1/submissions/${id}/receipts`, gw.keys.submitter);
        expect(res.status).to.equal(200);
        expect(res.body.submissionId).to.equal(id);
        const byDestination = Object.fromEntries((res.body.items as any[]).map((d) => [d.destination, d]));
        expect(byDestination.dmp).to.deep.equal({ destination: 'dmp', status: 'sent', uniqueId: '1.2.250.1.999.1.7', entryUUID: 'urn:uuid:00000000-0000-4000-8000-000000000001', submissionSetUniqueId: '1.2.250.1.999.2.7', registeredAt: byDestination.dmp.registeredAt });
        expect(new Date(byDestination.dmp.registeredAt as string).getTime()).to.be.greaterThan(0);
        expect(byDestination['mss:dr.house@test.mssante.fr']).to.deep.include({ status: 'delivered', messageId: '<m1@test>', acknowledgement: 'processed' });
        expect(byDestination['mss:dr.house@test.mssante.fr'].acknowledgedAt).to.be.a('string');
        expect(byDestination['mss:medecin-traitant']).to.deep.equal({ destination: 'mss:medecin-traitant', status: 'skipped' });
        const failed = await get(`/v1/submissions/${await make.failed({ failed: [{ destination: 'dmp', code: 'X' }] })}/receipts`);
        expect(failed.body.items).to.deep.equal([{ destination: 'dmp', status: 'failed' }]);
      });

      it("answers 404 for another tenant's timeline, receipts and replay", async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'X' }] });
        for (const path of [`/v1/submissions/${id}/timeline`, `/v1/submissions/${id}/receipts`, '/v1/submissions/sub_nonsense/timeline']) {
          expect((await get(path, otherSupport)).status, path).to.equal(404);
        }
        const replay = await post(`/v1/submissions/${id}/replay`, {}, otherSupport);
        expect(replay.status).to.equal(404);
        expect(replay.body.code).to.equal('not-found');
        expect((await store.getSubmission('acme', id))?.status).to.equal('failed');
      });
    });

    describe('replaying one submission', () => {
      it('sends the stored document again to the failed destinations only: one job per kind, attempts kept, error dropped, an event naming the key', async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'XDSRegistryBusy' }, { destination: 'mss:c@test.mssante.fr', code: '451 4.3.0' }, { destination: 'mss:d@test.mssante.fr', code: '451 4.3.0' }], delivered: ['mss:e@test.mssante.fr'] });
        const jobsBefore = (await store.listJobs('acme', id)) ?? [];
        const res = await post(`/v1/submissions/${id}/replay`);
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        expect(res.headers.get('location')).to.equal(`/v1/submissions/${id}/timeline`);
        expect(res.body).to.deep.equal({ submissionId: id, destinations: ['dmp', 'mss:c@test.mssante.fr', 'mss:d@test.mssante.fr'], rebuild: false });
        expect((await store.getSubmission('acme', id))?.status).to.equal('sending');
        const deliveries = (await store.listDeliveries('acme', id)) ?? [];
        const dmp = deliveries.find((d) => d.destination === 'dmp');
        expect(dmp?.status).to.equal('pending');
        expect(detailOf(dmp)).to.deep.equal({ attempts: 2 });
        expect(detailOf(deliveries.find((d) => d.destination === 'mss:c@test.mssante.fr'))).to.deep.equal({ attempts: 2, role: 'destinataire' });
        expect(deliveries.find((d) => d.destination === 'mss:e@test.mssante.fr')?.status).to.equal('sent');
        const newJobs = ((await store.listJobs('acme', id)) ?? []).slice(jobsBefore.length);
        expect(newJobs.map((j) => [j.kind, j.state, j.attempts])).to.have.deep.members([['dmp', 'ready', 0], ['mss', 'ready', 0]]);
        const replayed = (await store.listEvents('acme', id))?.at(-1);
        expect(replayed).to.deep.include({ type: 'replayed', actor: `apikey:${gw.keys.support.split('.')[0] ?? ''}`, data: { destinations: ['dmp', 'mss:c@test.mssante.fr', 'mss:d@test.mssante.fr'], rebuild: false } });
        const timeline = await get(`/v1/submissions/${id}/timeline`);
        expect(timeline.body.entries.at(-1)).to.include({ type: 'replayed', status: 'replayed' });
        expect(timeline.body.destinations.dmp.entries.at(-1).status).to.equal('replayed');
        expect(timeline.body.destinations.dmp.status).to.equal('pending');
      });

      it('is idempotent: a second replay while the first is in progress is a 409 in-progress and writes nothing', async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'XDSRegistryBusy' }] });
        const jobsBefore = ((await store.listJobs('acme', id)) ?? []).length;
        const [first, second] = await Promise.all([post(`/v1/submissions/${id}/replay`, {}, gw.keys.admin), post(`/v1/submissions/${id}/replay`, {})]);
        const statuses = [first.status, second.status].sort();
        expect(statuses).to.deep.equal([202, 409]);
        const refused = first.status === 409 ? first : second;
        expect(refused.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(refused.body).to.include({ code: 'replay-refused', type: 'urn:passerelle:problem:replay-refused', status: 409 });
        expect(refused.body.detail).to.match(/^in-progress: /);
        expect(refused.body.errors[0].rule).to.equal('REPLAY_IN_PROGRESS');
        const third = await post(`/v1/submissions/${id}/replay`);
        expect(third.status).to.equal(409);
        expect(((await store.listJobs('acme', id)) ?? []).length).to.equal(jobsBefore + 1);
        expect((await store.listEvents('acme', id))?.filter((e) => e.type === 'replayed')).to.have.length(1);
      });

      it('replays only the named failed destinations, and lists every one that cannot be', async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'X' }, { destination: 'mss:f@test.mssante.fr', code: 'Y' }], delivered: ['mss:g@test.mssante.fr'] });
        const bad = await post(`/v1/submissions/${id}/replay`, { destinations: ['mss:g@test.mssante.fr', 'mss:nobody@test.mssante.fr', 'dmp'] });
        expect(bad.status).to.equal(400);
        expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).to.deep.equal(['/destinations/0', '/destinations/1']);
        expect(bad.body.errors[0].message).to.contain('it is sent');
        expect((await store.getSubmission('acme', id))?.status).to.equal('failed');
        const res = await post(`/v1/submissions/${id}/replay`, { destinations: ['mss:f@test.mssante.fr'] });
        expect(res.status).to.equal(202);
        expect(res.body.destinations).to.deep.equal(['mss:f@test.mssante.fr']);
        const deliveries = (await store.listDeliveries('acme', id)) ?? [];
        expect(deliveries.find((d) => d.destination === 'dmp')?.status).to.equal('failed');
        expect(deliveries.find((d) => d.destination === 'mss:f@test.mssante.fr')?.status).to.equal('pending');
        expect(((await store.listJobs('acme', id)) ?? []).filter((j) => j.kind !== 'build').map((j) => j.kind)).to.deep.equal(['mss']);
      });

      it('asks for a rebuild when there is no document, and a rebuild goes back to received with a build job', async () => {
        const id = await make.failed({ failed: [], document: false });
        const refused = await post(`/v1/submissions/${id}/replay`);
        expect(refused.status).to.equal(409);
        expect(refused.body.detail).to.match(/^no-document: .*rebuild/);
        const jobsBefore = ((await store.listJobs('acme', id)) ?? []).length;
        const res = await post(`/v1/submissions/${id}/replay`, { rebuild: true });
        expect(res.status).to.equal(202);
        expect(res.body).to.deep.equal({ submissionId: id, destinations: [], rebuild: true });
        expect((await store.getSubmission('acme', id))?.status).to.equal('received');
        const jobs = (await store.listJobs('acme', id)) ?? [];
        expect(jobs.slice(jobsBefore).map((j) => j.kind)).to.deep.equal(['build']);
        expect((await store.listEvents('acme', id))?.at(-1)?.data).to.deep.equal({ destinations: [], rebuild: true });
      });

      it('refuses what is in progress or has nothing to replay', async () => {
        const received = await post(`/v1/submissions/${await make.received()}/replay`);
        expect(received.status).to.equal(409);
        expect(received.body.errors[0].rule).to.equal('REPLAY_IN_PROGRESS');
        const delivered = await post(`/v1/submissions/${await make.delivered()}/replay`);
        expect(delivered.status).to.equal(409);
        expect(delivered.body.errors[0].rule).to.equal('REPLAY_NOTHING_TO_REPLAY');
        expect((await post(`/v1/submissions/${newId('sub')}/replay`)).status).to.equal(404);
      });

      it('lets support and admin keys replay, not submitters', async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'X' }] });
        const res = await post(`/v1/submissions/${id}/replay`, {}, gw.keys.submitter);
        expect(res.status).to.equal(403);
        expect(res.body.code).to.equal('forbidden');
        expect((await post('/v1/submissions/replay', {}, gw.keys.submitter)).status).to.equal(403);
        expect((await post(`/v1/submissions/${id}/replay`, {}, gw.keys.admin)).status).to.equal(202);
      });

      it('checks the body strictly, listing every problem', async () => {
        const id = await make.failed({ failed: [{ destination: 'dmp', code: 'X' }] });
        const res = await post(`/v1/submissions/${id}/replay`, { rebuild: 'yes', destinations: ['nowhere', 'dmp', 'dmp'], force: true });
        expect(res.status).to.equal(400);
        expect(res.body.code).to.equal('bad-request');
        expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.have.members(['/force', '/rebuild', '/destinations/0', '/destinations/2']);
        const both = await post(`/v1/submissions/${id}/replay`, { rebuild: true, destinations: ['dmp'] });
        expect(both.status).to.equal(400);
        expect(both.body.errors[0].rule).to.equal('REPLAY_REBUILD_DESTINATIONS');
        const notJson = await call(`${gw.url}/v1/submissions/${id}/replay`, { method: 'POST', token: gw.keys.support, rawBody: 'rebuild=true', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        expect(notJson.status).to.equal(415);
        const malformed = await call(`${gw.url}/v1/submissions/${id}/replay`, { method: 'POST', token: gw.keys.support, rawBody: '{', headers: { 'content-type': 'application/json' } });
        expect(malformed.status).to.equal(400);
        expect(malformed.body.code).to.equal('malformed-json');
        expect((await store.getSubmission('acme', id))?.status).to.equal('failed');
      });
    });

    describe('bulk replay', () => {
      // A tenant of its own, so that other tests' submissions do not match.
      let tenant: Fixtures;
      let token: string;
      let ids: { dmpBusy: string; dmpPatient: string; mss: string; noDocument: string; delivered: string };
      before(async () => {
        tenant = new Fixtures(store, 'initech');
        token = (await createApiKey(store, { tenantId: 'initech', role: 'support', label: 'bulk' })).token;
        ids = {
          dmpBusy: await tenant.failed({ failed: [{ destination: 'dmp', code: 'XDSRegistryBusy' }, { destination: 'mss:h@test.mssante.fr', code: '550 5.1.1' }] }),
          dmpPatient: await tenant.failed({ failed: [{ destination: 'dmp', code: 'XDSPatientIdDoesNotMatch' }] }),
          mss: await tenant.failed({ failed: [{ destination: 'mss:i@test.mssante.fr', code: '550 5.1.1' }] }),
          noDocument: await tenant.failed({ failed: [], document: false }),
          delivered: await tenant.delivered(),
        };
      });

      it('says what a filter would replay without writing anything (dryRun)', async () => {
        const res = await post('/v1/submissions/replay', { dryRun: true }, token);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        expect(res.body).to.include({ matched: 4, dryRun: true });
        expect(res.body.replayed).to.deep.equal([ids.dmpBusy, ids.dmpPatient, ids.mss]);
        expect(res.body.skipped).to.deep.equal([{ submissionId: ids.noDocument, reason: 'no-document' }]);
        for (const id of Object.values(ids)) expect((await store.listEvents('initech', id))?.some((e) => e.type === 'replayed')).to.equal(false);
        const byDestination = await post('/v1/submissions/replay', { dryRun: true, destination: 'mss' }, token);
        expect(byDestination.body.replayed).to.deep.equal([ids.dmpBusy, ids.mss]);
        const byCode = await post('/v1/submissions/replay', { dryRun: true, destination: 'dmp', errorCode: 'XDSPatientIdDoesNotMatch' }, token);
        expect(byCode.body).to.deep.include({ matched: 1, replayed: [ids.dmpPatient], skipped: [] });
        const limited = await post('/v1/submissions/replay', { dryRun: true, limit: 1 }, token);
        expect(limited.body.replayed).to.deep.equal([ids.dmpBusy]);
        const past = await post('/v1/submissions/replay', { dryRun: true, until: '2000-01-01T00:00:00Z' }, token);
        expect(past.body.matched).to.equal(0);
        const delivered = await post('/v1/submissions/replay', { dryRun: true, status: 'delivered' }, token);
        expect(delivered.body).to.deep.include({ matched: 1, replayed: [], skipped: [{ submissionId: ids.delivered, reason: 'nothing-to-replay' }] });
      });

      it('replays the deliveries the filter names and only those, then skips them as in progress', async () => {
        const res = await post('/v1/submissions/replay', { destination: 'dmp', errorCode: 'XDSRegistryBusy' }, token);
        expect(res.status).to.equal(200);
        expect(res.body).to.deep.include({ matched: 1, replayed: [ids.dmpBusy], skipped: [], dryRun: false });
        const deliveries = (await store.listDeliveries('initech', ids.dmpBusy)) ?? [];
        expect(deliveries.find((d) => d.destination === 'dmp')?.status).to.equal('pending');
        // The failed recipient of the same submission is left alone: it was not asked for.
        expect(deliveries.find((d) => d.destination === 'mss:h@test.mssante.fr')?.status).to.equal('failed');
        const all = await post('/v1/submissions/replay', { status: 'sending' }, token);
        expect(all.body).to.deep.include({ matched: 1, replayed: [], skipped: [{ submissionId: ids.dmpBusy, reason: 'in-progress' }] });
        const rest = await post('/v1/submissions/replay', {}, token);
        expect(rest.body.replayed).to.deep.equal([ids.dmpPatient, ids.mss]);
        expect((await store.getSubmission('initech', ids.mss))?.status).to.equal('sending');
        const rebuild = await post('/v1/submissions/replay', { rebuild: true }, token);
        expect(rebuild.body.replayed).to.deep.equal([ids.noDocument]);
        expect((await store.getSubmission('initech', ids.noDocument))?.status).to.equal('received');
      });

      it('checks the filter strictly, listing every problem', async () => {
        const res = await post('/v1/submissions/replay', { status: 'lost', destination: 'fax', since: 'yesterday', until: '2026-13-01T00:00:00Z', limit: 5000, dryRun: 1, tenant: 'acme' }, token);
        expect(res.status).to.equal(400);
        expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).to.have.members(['/tenant', '/status', '/destination', '/since', '/until', '/limit', '/dryRun']);
        const reversed = await post('/v1/submissions/replay', { since: '2026-01-02T00:00:00Z', until: '2026-01-01T00:00:00Z' }, token);
        expect(reversed.status).to.equal(400);
        expect(reversed.body.errors[0].pointer).to.equal('/until');
      });
    });

    describe('operator pauses', () => {
      it('shows jobs per kind and state and the pauses, to admins only', async () => {
        const res = await get('/v1/pipeline', gw.keys.admin);
        expect(res.status).to.equal(200);
        const build = (res.body.jobs as { kind: string; state: string; count: number; overdue: number }[]).find((j) => j.kind === 'build' && j.state === 'ready');
        expect(build?.count).to.be.greaterThan(0);
        expect(build?.overdue).to.equal(build?.count);
        expect(res.body.pauses.map((p: { kind: string }) => p.kind)).to.have.members([...JOB_KINDS]);
        expect(res.body.pauses[0]).to.include({ pausedBy: 'test', reason: 'test suite' });
        for (const token of [gw.keys.support, gw.keys.submitter]) expect((await get('/v1/pipeline', token)).status).to.equal(403);
        expect((await call(`${gw.url}/v1/pipeline/pauses/webhook`, { method: 'DELETE', token: gw.keys.support })).status).to.equal(403);
        // The pipeline is every tenant's: the admin of a tenant that is not an operator may not stop it.
        const { token: otherAdmin } = await createApiKey(gw.gateway.store, { tenantId: 'globex', role: 'admin', label: 'not an operator' });
        const refused = await call(`${gw.url}/v1/pipeline/pauses/dmp`, { method: 'PUT', token: otherAdmin });
        expect(refused.status).to.equal(403);
        expect(refused.body.detail).to.match(/operator tenant/);
        expect((await get('/v1/pipeline', otherAdmin)).status).to.equal(403);
      });

      it('resumes and pauses a kind, naming the admin, 404 for a kind not paused or unknown', async () => {
        const del = (kind: string) => call(`${gw.url}/v1/pipeline/pauses/${kind}`, { method: 'DELETE', token: gw.keys.admin });
        const put = (kind: string, body?: unknown) => call(`${gw.url}/v1/pipeline/pauses/${kind}`, { method: 'PUT', token: gw.keys.admin, ...(body === undefined ? {} : { body }) });
        expect((await del('webhook')).status).to.equal(204);
        expect((await del('webhook')).status).to.equal(404);
        expect((await store.listPauses()).map((p) => p.kind)).to.not.include('webhook');
        const paused = await put('webhook', { reason: 'partner maintenance' });
        expect(paused.status).to.equal(200);
        expect(paused.body).to.include({ kind: 'webhook', pausedBy: `apikey:${gw.keys.admin.split('.')[0] ?? ''}`, reason: 'partner maintenance' });
        // Pausing again keeps the first pause.
        const again = await put('webhook');
        expect(again.status).to.equal(200);
        expect(again.body).to.deep.equal(paused.body);
        expect((await put('fax')).status).to.equal(404);
        expect((await del('fax')).status).to.equal(404);
        const bad = await put('webhook', { reason: '', until: 'tomorrow' });
        expect(bad.status).to.equal(400);
        expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).to.have.members(['/reason', '/until']);
      });
    });

    describe('the routes', () => {
      it('answers 405 with Allow for a wrong method, before any route', async () => {
        const getBulk = await get('/v1/submissions/replay');
        expect(getBulk.status).to.equal(405);
        expect(getBulk.headers.get('allow')).to.equal('POST');
        const getOne = await get(`/v1/submissions/${newId('sub')}/replay`);
        expect(getOne.status).to.equal(405);
        const post405 = await post('/v1/pipeline');
        expect(post405.status).to.equal(405);
        expect(post405.headers.get('allow')).to.equal('GET');
        const patch = await call(`${gw.url}/v1/pipeline/pauses/dmp`, { method: 'PATCH', token: gw.keys.admin });
        expect(patch.headers.get('allow')).to.equal('PUT, DELETE');
      });

      it('documents every route in the OpenAPI document', async () => {
        const doc = await call(`${gw.url}/openapi.json`);
        const operations = Object.entries(doc.body.paths as Record<string, Record<string, { responses?: object }>>).flatMap(([path, item]) => Object.keys(item).filter((k) => k !== 'parameters').map((method) => `${method.toUpperCase()} ${path}`));
        expect(operations).to.include.members([
          'GET /v1/submissions/{id}/timeline',
          'GET /v1/submissions/{id}/receipts',
          'POST /v1/submissions/{id}/replay',
          'POST /v1/submissions/replay',
          'GET /v1/pipeline',
          'PUT /v1/pipeline/pauses/{kind}',
          'DELETE /v1/pipeline/pauses/{kind}',
        ]);
        const list = doc.body.paths['/v1/submissions'].get.parameters.map((p: { name: string }) => p.name);
        expect(list).to.include('requestId');
        expect(doc.body.components.schemas.Submission.properties.links).to.be.an('object');
      });
    });
  });
}
