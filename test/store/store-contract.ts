/**
 * The behaviour every Store must have, run against each backend by its own test file. Each test
 * gets a fresh, migrated, empty store.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { JOB_KINDS, type DeliveryStatus, type JobKind, type Role, type SubmissionEventType, type SubmissionStatus } from '../../src/domain/submission.js';
import { GENESIS_HASH, eventHash, verifyAuditChain, type HashedEvent } from '../../src/store/audit-chain.js';
import type {
  ApiKeyRecord,
  ClaimedJob,
  DeliveryRecord,
  DocumentRecord,
  Json,
  NewEvent,
  NewSubmission,
  ReplayFilter,
  Store,
  SubmissionEvent,
  SubmissionRecord,
} from '../../src/store/store.js';
import { encodeCursor } from '../../src/store/pagination.js';
import { newId } from '../../src/support/new-id.js';
import { rejection } from './rejection.js';

export interface StoreUnderTest {
  readonly store: Store;
  /** Runs SQL through the backend's own driver, around the Store, to check database-level guards. */
  execRaw(sql: string): Promise<void>;
  /** SQL that removes the backend's append-only guard of submission_events (its triggers), for tampering tests. */
  readonly dropAppendOnlyGuard: string;
  /** Closes the store and deletes its data, which a failed test may keep for inspection. */
  cleanup(outcome: { readonly testFailed: boolean }): Promise<void>;
}

const TENANT = 'clinic-lyon';
const OTHER_TENANT = 'clinic-brest';
const T0 = new Date('2026-11-22T05:10:00.123Z');
const LEASE_MS = 60_000;

function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

function aSubmission(overrides: Partial<NewSubmission> = {}): NewSubmission {
  const createdAt = overrides.createdAt ?? T0;
  return {
    id: newId('sub', createdAt),
    tenantId: TENANT,
    idempotencyKey: null,
    requestHash: 'a'.repeat(64),
    requestId: 'req_01',
    actType: 'teleconsultation',
    input: { patient: { ins: '1 84 12 75 123 456 78' }, act: { type: 'teleconsultation' } },
    createdAt,
    events: [
      { type: 'received', at: createdAt, actor: 'apikey:k_1', data: { bytes: 812 } },
      { type: 'validated', at: at(5), actor: 'gateway', data: { schema: 'act-report:1' } },
    ],
    ...overrides,
  };
}

function anApiKey(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: newId('k'),
    tenantId: TENANT,
    role: 'submitter' satisfies Role,
    label: 'cabinet Dr Lefèvre',
    secretHash: Buffer.from('5f'.repeat(32), 'hex'),
    createdAt: T0,
    revokedAt: null,
    ...overrides,
  };
}

/** What a JSON column can give back: JSON.stringify's view of the value (e.g. -0 becomes 0). */
function asJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`${name} store (shared Store contract)`, function () {
    let subject: StoreUnderTest | undefined;
    let store: Store;

    beforeEach(async function () {
      subject = await makeStore();
      store = subject.store;
      await store.migrate();
    });

    afterEach(async function () {
      await subject?.cleanup({ testFailed: this.currentTest?.state === 'failed' });
      subject = undefined;
    });

    function claim(options: { owner?: string; now: Date; limit?: number; kinds?: readonly JobKind[] }): Promise<readonly ClaimedJob[]> {
      return store.claimJobs({ owner: options.owner ?? 'worker-1', now: options.now, leaseMs: LEASE_MS, limit: options.limit ?? 10, kinds: options.kinds ?? JOB_KINDS });
    }

    /** Creates submissions one second apart, oldest first. */
    async function createMany(count: number, tenantId = TENANT): Promise<SubmissionRecord[]> {
      const created: SubmissionRecord[] = [];
      for (let i = 0; i < count; i++) {
        const result = await store.createSubmission(aSubmission({ tenantId, createdAt: at(i * 1000) }));
        created.push(result.submission);
      }
      return created;
    }

    describe('lifecycle', function () {
      it('applies its migrations again without effect', async function () {
        await store.migrate();
        await store.migrate();
        const result = await store.createSubmission(aSubmission());
        expect(result.created).to.equal(true);
      });

      it('answers a ping', async function () {
        await store.ping();
      });

      it('refuses work once closed, and may be closed twice', async function () {
        await store.close();
        expect(await rejection(store.ping())).to.be.instanceOf(Error);
        await store.close();
      });
    });

    describe('submissions', function () {
      it('gives back a created submission exactly as it was stored', async function () {
        const input: Json = {
          patient: { family: 'Lefèvre-Müller', given: ['Zoë', 'Ægir'], note: '患者 مريض 🩺 e\u0301' },
          text: 'tab\there\nnew line \u001f \u2028 "quoted" \\ back',
          numbers: [0, -1, 1.5, 1e-7, 123456789012345, -2.5e300],
          flags: [true, false, null],
          empty: { list: [], object: {} },
        };
        const submission = aSubmission({ input, idempotencyKey: 'retry-é-1', requestId: 'req_42' });

        const result = await store.createSubmission(submission);
        const found = await store.getSubmission(TENANT, submission.id);

        const expected: SubmissionRecord = {
          id: submission.id,
          tenantId: TENANT,
          status: 'received',
          actType: 'teleconsultation',
          idempotencyKey: 'retry-é-1',
          requestId: 'req_42',
          requestHash: submission.requestHash,
          input,
          createdAt: T0,
          updatedAt: T0,
        };
        expect(result).to.deep.equal({ created: true, submission: expected });
        expect(found).to.deep.equal(expected);
        expect(found?.createdAt).to.be.instanceOf(Date);
      });

      it('keeps any JSON input intact', async function () {
        await fc.assert(
          fc.asyncProperty(fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 }), async (value) => {
            const input = asJson(value);
            const submission = aSubmission({ input });
            await store.createSubmission(submission);
            const found = await store.getSubmission(TENANT, submission.id);
            expect(found?.input).to.deep.equal(input);
          }),
          { numRuns: 40 },
        );
      });

      it('returns undefined for an unknown submission', async function () {
        expect(await store.getSubmission(TENANT, newId('sub'))).to.equal(undefined);
      });

      it('refuses a second submission with an id that already exists', async function () {
        const submission = aSubmission();
        await store.createSubmission(submission);
        const error = await rejection(store.createSubmission({ ...submission, idempotencyKey: 'another-key' }));
        expect(error).to.be.instanceOf(Error);
      });

      it('keeps the others when one of several concurrent submissions fails (SQLite commits them together)', async function () {
        const first = aSubmission();
        await store.createSubmission(first);
        const batch = Array.from({ length: 20 }, (_, i) => (i === 7 ? { ...first, idempotencyKey: 'dup' } : aSubmission({ idempotencyKey: `k-${i}` })));
        const settled = await Promise.allSettled(batch.map((s) => store.createSubmission(s)));
        expect(settled.map((r) => r.status)).to.deep.equal(batch.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
        for (const [i, s] of batch.entries()) {
          if (i === 7) continue;
          expect((await store.getSubmission(s.tenantId, s.id))?.idempotencyKey).to.equal(`k-${i}`);
          expect(await store.listEvents(s.tenantId, s.id)).to.have.length(s.events.length);
        }
      });

      it('writes nothing at all when part of a submission cannot be stored', async function () {
        const submission = aSubmission({
          idempotencyKey: 'k-1',
          events: [
            { type: 'received', at: T0, actor: 'apikey:k_1', data: {} },
            { type: 'validated', at: new Date(Number.NaN), actor: 'gateway', data: {} },
          ],
        });
        expect(await rejection(store.createSubmission(submission))).to.be.instanceOf(Error);
        expect(await store.getSubmission(TENANT, submission.id)).to.equal(undefined);
        expect(await store.findSubmissionByIdempotencyKey(TENANT, 'k-1')).to.equal(undefined);
        expect((await store.listSubmissions({ tenantId: TENANT, limit: 10 })).items).to.deep.equal([]);
      });
    });

    describe('events', function () {
      it('lists the events of a submission in order, numbered from 1', async function () {
        const submission = aSubmission({
          events: [
            { type: 'received', at: T0, actor: 'apikey:k_1', data: { requestId: 'req_01', bytes: 812, key: null } },
            { type: 'validated', at: at(7), actor: 'gateway', data: { actCode: 'TLC', rules: ['R1', 'R2'] } },
          ],
        });
        await store.createSubmission(submission);

        const events = await store.listEvents(TENANT, submission.id);

        const first: HashedEvent = { seq: 1, submissionId: submission.id, type: 'received', at: T0, actor: 'apikey:k_1', data: { requestId: 'req_01', bytes: 812, key: null } };
        const second: HashedEvent = { seq: 2, submissionId: submission.id, type: 'validated', at: at(7), actor: 'gateway', data: { actCode: 'TLC', rules: ['R1', 'R2'] } };
        const firstHash = eventHash(GENESIS_HASH, first);
        expect(events).to.deep.equal([
          { ...first, hash: firstHash },
          { ...second, hash: eventHash(firstHash, second) },
        ]);
      });

      it('returns an empty list for a submission created without events', async function () {
        const submission = aSubmission({ events: [] });
        await store.createSubmission(submission);
        expect(await store.listEvents(TENANT, submission.id)).to.deep.equal([]);
      });

      it('returns undefined events for an unknown submission', async function () {
        expect(await store.listEvents(TENANT, newId('sub'))).to.equal(undefined);
      });

      it('refuses to update or delete recorded events, even through the raw driver', async function () {
        const submission = aSubmission();
        await store.createSubmission(submission);
        const before = await store.listEvents(TENANT, submission.id);

        const updateError = await rejection(subject!.execRaw("UPDATE submission_events SET actor = 'mallory'"));
        const deleteError = await rejection(subject!.execRaw('DELETE FROM submission_events'));

        expect(String(updateError)).to.match(/append-only/);
        expect(String(deleteError)).to.match(/append-only/);
        expect(await store.listEvents(TENANT, submission.id)).to.deep.equal(before);
      });
    });

    describe('idempotency', function () {
      it('returns the existing submission and writes nothing when a tenant reuses a key', async function () {
        const first = aSubmission({ idempotencyKey: 'key-1' });
        const created = await store.createSubmission(first);
        const retry = aSubmission({ idempotencyKey: 'key-1', createdAt: at(60_000), input: { other: true }, requestHash: 'b'.repeat(64) });

        const result = await store.createSubmission(retry);

        expect(result).to.deep.equal({ created: false, submission: created.submission });
        expect(await store.getSubmission(TENANT, retry.id)).to.equal(undefined);
        expect(await store.listEvents(TENANT, first.id)).to.have.length(2);
        expect((await store.listSubmissions({ tenantId: TENANT, limit: 10 })).items).to.have.length(1);
      });

      it('finds a submission by its idempotency key within its tenant only', async function () {
        const submission = aSubmission({ idempotencyKey: 'key-1' });
        const created = await store.createSubmission(submission);

        expect(await store.findSubmissionByIdempotencyKey(TENANT, 'key-1')).to.deep.equal(created.submission);
        expect(await store.findSubmissionByIdempotencyKey(TENANT, 'key-2')).to.equal(undefined);
        expect(await store.findSubmissionByIdempotencyKey(OTHER_TENANT, 'key-1')).to.equal(undefined);
      });

      it('lets different tenants use the same key', async function () {
        const ours = await store.createSubmission(aSubmission({ idempotencyKey: 'key-1' }));
        const theirs = await store.createSubmission(aSubmission({ tenantId: OTHER_TENANT, idempotencyKey: 'key-1' }));

        expect(ours.created).to.equal(true);
        expect(theirs.created).to.equal(true);
        expect(theirs.submission.id).to.not.equal(ours.submission.id);
      });

      it('creates every submission sent without a key', async function () {
        const first = await store.createSubmission(aSubmission());
        const second = await store.createSubmission(aSubmission());

        expect([first.created, second.created]).to.deep.equal([true, true]);
        expect((await store.listSubmissions({ tenantId: TENANT, limit: 10 })).items).to.have.length(2);
      });
    });

    describe('tenant isolation', function () {
      it("never shows a tenant another tenant's submissions or events", async function () {
        const [theirs] = await createMany(1, OTHER_TENANT);

        expect(await store.getSubmission(TENANT, theirs!.id)).to.equal(undefined);
        expect(await store.listEvents(TENANT, theirs!.id)).to.equal(undefined);
        expect(await store.listSubmissions({ tenantId: TENANT, limit: 10 })).to.deep.equal({ items: [] });
        expect(await store.getSubmission(OTHER_TENANT, theirs!.id)).to.deep.equal(theirs);
      });
    });

    describe('listing', function () {
      it('pages through submissions newest first without overlap or gap', async function () {
        const created = await createMany(25);
        await createMany(3, OTHER_TENANT);
        const newestFirst = created.map((submission) => submission.id).reverse();

        const first = await store.listSubmissions({ tenantId: TENANT, limit: 10 });
        const second = await store.listSubmissions({ tenantId: TENANT, limit: 10, cursor: first.nextCursor! });
        const third = await store.listSubmissions({ tenantId: TENANT, limit: 10, cursor: second.nextCursor! });

        expect([first.items.length, second.items.length, third.items.length]).to.deep.equal([10, 10, 5]);
        expect(third.nextCursor).to.equal(undefined);
        const ids = [...first.items, ...second.items, ...third.items].map((item) => item.id);
        expect(ids).to.deep.equal(newestFirst);
      });

      it('lists summaries without the input', async function () {
        const [submission] = await createMany(1);
        const { items } = await store.listSubmissions({ tenantId: TENANT, limit: 1 });

        expect(items).to.deep.equal([
          {
            id: submission!.id,
            tenantId: TENANT,
            status: 'received',
            actType: 'teleconsultation',
            idempotencyKey: null,
            requestId: 'req_01',
            createdAt: T0,
            updatedAt: T0,
          },
        ]);
      });

      it('gives no cursor when the last page is exactly full', async function () {
        await createMany(3);
        const page = await store.listSubmissions({ tenantId: TENANT, limit: 3 });

        expect(page.items).to.have.length(3);
        expect(page.nextCursor).to.equal(undefined);
      });

      it('filters by status across pages', async function () {
        const created = await createMany(25);
        const delivered = created.slice(0, 12).map((submission) => submission.id);
        await subject!.execRaw(`UPDATE submissions SET status = 'delivered' WHERE id IN (${delivered.map((id) => `'${id}'`).join(', ')})`);

        const first = await store.listSubmissions({ tenantId: TENANT, status: 'delivered', limit: 10 });
        const second = await store.listSubmissions({ tenantId: TENANT, status: 'delivered', limit: 10, cursor: first.nextCursor! });
        const received = await store.listSubmissions({ tenantId: TENANT, status: 'received', limit: 200 });

        expect([...first.items, ...second.items].map((item) => item.id)).to.deep.equal([...delivered].reverse());
        expect(second.nextCursor).to.equal(undefined);
        expect(received.items).to.have.length(13);
        expect(received.items.every((item) => item.status === 'received')).to.equal(true);
      });

      it('filters by creation time, including the instant given', async function () {
        const created = await createMany(25);

        const page = await store.listSubmissions({ tenantId: TENANT, since: created[15]!.createdAt, limit: 200 });
        const none = await store.listSubmissions({ tenantId: TENANT, since: at(3_600_000), limit: 200 });

        expect(page.items.map((item) => item.id)).to.deep.equal(created.slice(15).map((submission) => submission.id).reverse());
        expect(none.items).to.deep.equal([]);
      });

      it('combines status, time and cursor filters', async function () {
        const created = await createMany(25);
        const failed = created.filter((_, index) => index % 2 === 0).map((submission) => submission.id);
        await subject!.execRaw(`UPDATE submissions SET status = 'failed' WHERE id IN (${failed.map((id) => `'${id}'`).join(', ')})`);
        const query = { tenantId: TENANT, status: 'failed', since: created[10]!.createdAt, limit: 4 } as const;

        const first = await store.listSubmissions(query);
        const second = await store.listSubmissions({ ...query, cursor: first.nextCursor! });

        // Indices 10, 12, …, 24: seven failed submissions at or after the tenth.
        expect([...first.items, ...second.items].map((item) => item.id)).to.deep.equal(failed.slice(5).reverse());
        expect(second.nextCursor).to.equal(undefined);
      });

      it('finds the submission a request created by its request id, within the tenant', async function () {
        const ours = aSubmission({ requestId: 'req_wanted' });
        await store.createSubmission(ours);
        await store.createSubmission(aSubmission({ requestId: 'req_other' }));
        await store.createSubmission(aSubmission({ tenantId: OTHER_TENANT, requestId: 'req_wanted' }));

        const page = await store.listSubmissions({ tenantId: TENANT, requestId: 'req_wanted', limit: 10 });
        const none = await store.listSubmissions({ tenantId: TENANT, requestId: 'req_wanted', status: 'failed', limit: 10 });

        expect(page.items.map((item) => item.id)).to.deep.equal([ours.id]);
        expect(none.items).to.deep.equal([]);
      });

      it('rejects a malformed cursor with a RangeError', async function () {
        const [submission] = await createMany(1);
        const malformed = ['', 'not a cursor!', encodeCursor('sub_short'), `${encodeCursor(submission!.id)}=`, `${encodeCursor(submission!.id)}*`];

        for (const cursor of malformed) {
          const error = await rejection(store.listSubmissions({ tenantId: TENANT, limit: 10, cursor }));
          expect(error, cursor).to.be.instanceOf(RangeError);
          expect((error as RangeError).message, cursor).to.match(/^invalid cursor/);
        }
      });

      it('rejects a page size outside 1 to 200', async function () {
        for (const limit of [0, 201, 1.5, -1]) {
          expect(await rejection(store.listSubmissions({ tenantId: TENANT, limit })), String(limit)).to.be.instanceOf(RangeError);
        }
      });
    });

    describe('jobs', function () {
      it('enqueues exactly one build job with a new submission, due at its creation', async function () {
        const submission = aSubmission({ idempotencyKey: 'key-1' });
        await store.createSubmission(submission);
        await store.createSubmission(aSubmission({ idempotencyKey: 'key-1', createdAt: at(60_000) }));

        expect(await store.listJobs(TENANT, submission.id)).to.deep.equal([
          { id: (await store.listJobs(TENANT, submission.id))?.[0]?.id, submissionId: submission.id, tenantId: TENANT, kind: 'build', state: 'ready', attempts: 0, runAt: T0, createdAt: T0, lastError: null },
        ]);
        expect(await store.listJobs(OTHER_TENANT, submission.id)).to.equal(undefined);
        expect(await claim({ now: at(3_600_000), limit: 100 })).to.have.length(1);
      });

      it('enqueues no job when the submission cannot be stored, and one for each of concurrent ones', async function () {
        const broken = aSubmission({ events: [{ type: 'received', at: new Date(Number.NaN), actor: 'apikey:k_1', data: {} }] });
        expect(await rejection(store.createSubmission(broken))).to.be.instanceOf(Error);
        const batch = Array.from({ length: 12 }, () => aSubmission());
        await Promise.all(batch.map((s) => store.createSubmission(s)));

        const claimed = await claim({ now: at(1000), limit: 100 });
        expect(claimed.map((job) => job.submissionId).sort()).to.deep.equal(batch.map((s) => s.id).sort());
        expect(claimed.every((job) => job.kind === 'build')).to.equal(true);
      });

      it('claims due jobs oldest first, setting the lease, counting the attempt and bringing the submission', async function () {
        const created = await createMany(3);

        const claimed = await claim({ owner: 'worker-1', now: at(1500) });

        expect(claimed.map((job) => job.submissionId)).to.deep.equal([created[0]?.id, created[1]?.id]);
        expect(claimed[0]).to.deep.include({ kind: 'build', state: 'ready', attempts: 1, runAt: T0, leaseOwner: 'worker-1', leaseUntil: at(1500 + LEASE_MS), tenantId: TENANT, lastError: null });
        expect(claimed[0]?.submission).to.deep.equal(created[0]);
        expect((await claim({ now: at(5000), limit: 1 })).map((job) => job.submissionId)).to.deep.equal([created[2]?.id]);
        expect((await store.listJobs(TENANT, created[0]?.id ?? ''))?.[0]?.attempts).to.equal(1);
      });

      it('does not claim a leased job again until its lease expires, then does (attempts 2)', async function () {
        const [s] = await createMany(1);
        const [first] = await claim({ owner: 'worker-1', now: at(1000) });

        expect(await claim({ owner: 'worker-2', now: at(1000 + LEASE_MS - 1) })).to.deep.equal([]);
        const [again] = await claim({ owner: 'worker-2', now: at(1000 + LEASE_MS + 1) });

        expect(again).to.deep.include({ id: first?.id, submissionId: s?.id, attempts: 2, leaseOwner: 'worker-2' });
        expect(await claim({ owner: 'worker-3', now: at(1000 + LEASE_MS + 2) })).to.deep.equal([]);
      });

      it('renews the leases its owner still holds (the heartbeat), and not a lease another worker took over', async function () {
        await createMany(1);
        const [first] = await claim({ owner: 'worker-1', now: at(1000) });
        const id = first?.id ?? 0;
        expect(await store.renewLeases('worker-2', [id], at(1000 + 5 * LEASE_MS), at(1000 + 10)), 'not its lease').to.equal(0);
        expect(await store.renewLeases('worker-1', [id], at(1000 + 5 * LEASE_MS), at(1000 + LEASE_MS / 2))).to.equal(1);
        expect(await claim({ owner: 'worker-2', now: at(1000 + 2 * LEASE_MS) }), 'renewed: still worker-1\'s').to.deep.equal([]);
        const [taken] = await claim({ owner: 'worker-2', now: at(1000 + 5 * LEASE_MS + 1) });
        expect(taken).to.deep.include({ id, leaseOwner: 'worker-2', attempts: 2 });
        expect(await store.renewLeases('worker-1', [id], at(1000 + 9 * LEASE_MS), at(1000 + 5 * LEASE_MS + 2)), 'lost: the new owner keeps it').to.equal(0);
        expect(await store.renewLeases('worker-1', [], at(1000 + 9 * LEASE_MS), at(1000))).to.equal(0);
      });

      it('claims only the kinds asked for', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        expect(await store.applyChange({ submissionId: id, at: at(100), events: [], enqueue: [{ kind: 'dmp', runAt: at(100) }, { kind: 'mss', runAt: at(100) }] })).to.equal(true);

        expect((await claim({ now: at(1000), kinds: ['mss', 'dmp'] })).map((job) => job.kind)).to.deep.equal(['dmp', 'mss']);
        expect((await claim({ now: at(1000), kinds: ['build'] })).map((job) => job.kind)).to.deep.equal(['build']);
        expect(await claim({ now: at(1000), kinds: [] })).to.deep.equal([]);
      });

      it('never claims a paused kind, and claims it again once resumed', async function () {
        await createMany(2);
        const pause = { kind: 'build', pausedAt: at(10), pausedBy: 'cli:ops', reason: 'DMP maintenance' } as const;

        await store.pauseJobs(pause);
        await store.pauseJobs({ ...pause, pausedAt: at(20), pausedBy: 'cli:other', reason: null });
        await store.pauseJobs({ kind: 'webhook', pausedAt: at(30), pausedBy: 'cli:ops', reason: null });

        expect(await store.listPauses()).to.deep.equal([pause, { kind: 'webhook', pausedAt: at(30), pausedBy: 'cli:ops', reason: null }]);
        expect(await claim({ now: at(60_000) })).to.deep.equal([]);
        expect(await store.resumeJobs('build')).to.equal(true);
        expect(await store.resumeJobs('build')).to.equal(false);
        expect(await store.listPauses()).to.have.length(1);
        expect(await claim({ now: at(60_000) })).to.have.length(2);
      });

      it('counts jobs per kind and state, and the ready ones due that no worker holds', async function () {
        const created = await createMany(4);
        await claim({ now: at(1500), limit: 1 });
        const [second] = await claim({ now: at(1500), limit: 1 });
        await store.applyChange({ submissionId: created[1]?.id ?? '', at: at(1600), lease: { jobId: second?.id ?? 0, owner: 'worker-1', outcome: { state: 'done' } }, events: [], enqueue: [{ kind: 'dmp', runAt: at(1600) }] });

        // At 2500: build of s0 is leased, s1 done, s2 due, s3 not due yet; the dmp job is due.
        expect(await store.countJobs(at(2500))).to.deep.equal([
          { kind: 'build', state: 'done', count: 1, overdue: 0 },
          { kind: 'build', state: 'ready', count: 3, overdue: 1 },
          { kind: 'dmp', state: 'ready', count: 1, overdue: 1 },
        ]);
      });
    });

    describe('changes', function () {
      const aDocument = (submissionId: string, overrides: Partial<DocumentRecord> = {}): DocumentRecord => ({
        submissionId,
        type: 'tlm-cr',
        volet: 'TLM-CR_2022.01',
        documentId: `2.25.${String(Date.now())}${String(Math.floor(Math.random() * 1e9))}`,
        setId: '2.25.42',
        versionNumber: 1,
        xml: Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3">é</ClinicalDocument>'),
        pdf: Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]),
        builtAt: at(10_000),
        ...overrides,
      });
      const event = (type: SubmissionEventType, data: Json = {}): NewEvent => ({ type, at: at(10_000), actor: 'worker', data });
      const delivery = (submissionId: string, destination: string, status: DeliveryStatus, detail: Json = { attempts: 1 }, reference: string | null = null): DeliveryRecord => ({
        submissionId,
        destination,
        status,
        reference,
        detail,
        updatedAt: at(10_000),
      });

      /** Everything a change may write, to compare before and after. */
      async function snapshot(id: string) {
        return {
          submission: await store.getSubmission(TENANT, id),
          events: await store.listEvents(TENANT, id),
          deliveries: await store.listDeliveries(TENANT, id),
          document: await store.getDocument(TENANT, id),
          jobs: await store.listJobs(TENANT, id),
        };
      }

      /** A submission moved to `status` by changes, as the pipeline would. */
      async function aSubmissionIn(path: readonly SubmissionStatus[]): Promise<string> {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        if (path.length > 0) expect(await store.applyChange({ submissionId: id, at: at(1000), events: [], statusPath: path })).to.equal(true);
        return id;
      }

      it('writes a whole step at once: the job done, the document, the events, the status and the next job', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        const [job] = await claim({ now: at(1000) });
        const document = aDocument(id);

        const applied = await store.applyChange({
          submissionId: id,
          at: at(10_000),
          lease: { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'done' } },
          expectStatus: ['received'],
          document,
          events: [event('built', { documentId: document.documentId }), event('signed', { signer: 'Passerelle ORG SIGN' })],
          statusPath: ['built', 'signed'],
          enqueue: [{ kind: 'dmp', runAt: at(10_000) }],
        });

        expect(applied).to.equal(true);
        expect(await store.getDocument(TENANT, id)).to.deep.equal(document);
        expect(await store.getDocument(OTHER_TENANT, id)).to.equal(undefined);
        expect(await store.getSubmission(TENANT, id)).to.deep.include({ status: 'signed', updatedAt: at(10_000) });
        expect((await store.listEvents(TENANT, id))?.map((e) => [e.seq, e.type])).to.deep.equal([[1, 'received'], [2, 'validated'], [3, 'built'], [4, 'signed']]);
        expect((await store.listJobs(TENANT, id))?.map((j) => [j.kind, j.state, j.attempts])).to.deep.equal([['build', 'done', 1], ['dmp', 'ready', 0]]);
        expect((await claim({ now: at(3_600_000) })).map((j) => j.kind)).to.deep.equal(['dmp']);
      });

      it('writes nothing and returns false when the lease was lost to another worker', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        const [job] = await claim({ owner: 'worker-1', now: at(1000) });
        await claim({ owner: 'worker-2', now: at(1000 + LEASE_MS + 1) });
        const before = await snapshot(id);

        const applied = await store.applyChange({
          submissionId: id,
          at: at(LEASE_MS + 5000),
          lease: { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'done' } },
          document: aDocument(id),
          deliveries: [delivery(id, 'dmp', 'pending')],
          events: [event('built')],
          statusPath: ['built'],
          enqueue: [{ kind: 'dmp', runAt: at(10_000) }],
        });

        expect(applied).to.equal(false);
        expect(await snapshot(id)).to.deep.equal(before);
        expect(before.jobs?.[0]).to.deep.include({ state: 'ready', attempts: 2 });
      });

      it('writes nothing and returns false when the submission is not in an expected status', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        const [job] = await claim({ now: at(1000) });
        const before = await snapshot(id);

        const change = { submissionId: id, at: at(10_000), lease: { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'done' } }, expectStatus: ['built', 'signed'], events: [event('sent')] } as const;
        expect(await store.applyChange(change)).to.equal(false);
        expect(await snapshot(id)).to.deep.equal(before);
        expect(await store.applyChange({ submissionId: 'sub_01NOSUCHSUBMISSION0000000', at: at(10_000), events: [event('sent')] })).to.equal(false);
        // The lease is still the worker's: the same change without the expectation goes through.
        expect(await store.applyChange({ ...change, expectStatus: ['received'] })).to.equal(true);
      });

      it('puts a retried job back at its runAt with its error, keeping its attempts', async function () {
        const [s] = await createMany(1);
        const [job] = await claim({ now: at(1000) });
        const lastError = { code: 'partner-unavailable', message: 'DMP answered 503' };

        await store.applyChange({ submissionId: s?.id ?? '', at: at(2000), lease: { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'retry', runAt: at(30_000), lastError } }, events: [] });

        expect((await store.listJobs(TENANT, s?.id ?? ''))?.[0]).to.deep.include({ state: 'ready', runAt: at(30_000), attempts: 1, lastError });
        expect(await claim({ now: at(29_999) })).to.deep.equal([]);
        expect((await claim({ now: at(30_000) }))[0]).to.deep.include({ id: job?.id, attempts: 2, lastError });
      });

      it('dead-letters a job: it keeps its error and is never claimed again', async function () {
        const [s] = await createMany(1);
        const [job] = await claim({ now: at(1000) });
        const lastError = { code: 'XDSPatientIdDoesNotMatch', message: 'refused' };

        expect(await store.applyChange({ submissionId: s?.id ?? '', at: at(2000), lease: { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'dead', lastError } }, events: [] })).to.equal(true);
        expect(await store.applyChange({ submissionId: s?.id ?? '', at: at(2000), lease: { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'done' } }, events: [] })).to.equal(false);

        expect((await store.listJobs(TENANT, s?.id ?? ''))?.[0]).to.deep.include({ state: 'dead', attempts: 1, lastError });
        expect(await claim({ now: at(10 * LEASE_MS) })).to.deep.equal([]);
      });

      it('throws on an impossible status step and writes nothing', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        const [job] = await claim({ now: at(1000) });
        const before = await snapshot(id);
        const lease = { jobId: job?.id ?? 0, owner: 'worker-1', outcome: { state: 'done' } } as const;

        const error = await rejection(store.applyChange({ submissionId: id, at: at(2000), lease, document: aDocument(id), events: [event('built')], statusPath: ['built', 'delivered'], enqueue: [{ kind: 'dmp', runAt: at(2000) }] }));

        expect(error).to.be.instanceOf(Error);
        expect(String(error)).to.match(/built to delivered/);
        expect(await snapshot(id)).to.deep.equal(before);
        expect(await store.applyChange({ submissionId: id, at: at(2000), lease, events: [] })).to.equal(true);
      });

      it('writes nothing when part of the change cannot be stored (a document id used twice)', async function () {
        const [a, b] = await createMany(2);
        await store.applyChange({ submissionId: a?.id ?? '', at: at(2000), document: aDocument(a?.id ?? '', { documentId: '2.25.7' }), events: [] });
        const before = await snapshot(b?.id ?? '');

        const change = { submissionId: b?.id ?? '', at: at(2000), document: aDocument(b?.id ?? '', { documentId: '2.25.7' }), events: [event('built')], statusPath: ['built'] } as const;
        expect(await rejection(store.applyChange(change))).to.be.instanceOf(Error);

        expect(await snapshot(b?.id ?? '')).to.deep.equal(before);
      });

      it('replaces the document on a rebuild', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        await store.applyChange({ submissionId: id, at: at(2000), document: aDocument(id), events: [] });
        const rebuilt = aDocument(id, { versionNumber: 2, xml: Buffer.from('<ClinicalDocument xmlns="urn:hl7-org:v3">v2</ClinicalDocument>'), pdf: null, builtAt: at(20_000) });

        expect(await store.applyChange({ submissionId: id, at: at(20_000), document: rebuilt, events: [event('built')] })).to.equal(true);

        expect(await store.getDocument(TENANT, id)).to.deep.equal(rebuilt);
      });

      it('derives the status from all the deliveries, and enqueues onTerminal jobs only when it moves into delivered or failed', async function () {
        const id = await aSubmissionIn(['built', 'signed', 'sending']);
        const step = async (deliveries: DeliveryRecord[]) => {
          expect(await store.applyChange({ submissionId: id, at: at(10_000), deliveries, events: [], deriveStatus: true, onTerminal: [{ kind: 'webhook', runAt: at(10_000) }] })).to.equal(true);
          return { status: (await store.getSubmission(TENANT, id))?.status, webhooks: (await store.listJobs(TENANT, id))?.filter((j) => j.kind === 'webhook').length };
        };

        expect(await step([delivery(id, 'dmp', 'pending'), delivery(id, 'mss:dr.a@test.mssante.fr', 'sent')])).to.deep.equal({ status: 'sending', webhooks: 0 });
        expect(await step([delivery(id, 'dmp', 'retrying')])).to.deep.equal({ status: 'retrying', webhooks: 0 });
        expect(await step([delivery(id, 'dmp', 'sent')])).to.deep.equal({ status: 'delivered', webhooks: 1 });
        expect(await step([delivery(id, 'mss:dr.a@test.mssante.fr', 'delivered')])).to.deep.equal({ status: 'delivered', webhooks: 1 });
        expect(await step([delivery(id, 'mss:dr.a@test.mssante.fr', 'failed')])).to.deep.equal({ status: 'failed', webhooks: 2 });
        expect(await step([])).to.deep.equal({ status: 'failed', webhooks: 2 });
      });

      it('derives delivered for a submission without any destination', async function () {
        const id = await aSubmissionIn(['built', 'signed']);
        expect(await store.applyChange({ submissionId: id, at: at(10_000), events: [], deriveStatus: true, onTerminal: [{ kind: 'webhook', runAt: at(10_000) }] })).to.equal(true);
        expect((await store.getSubmission(TENANT, id))?.status).to.equal('delivered');
        expect((await store.listJobs(TENANT, id))?.map((j) => j.kind)).to.deep.equal(['build', 'webhook']);
      });

      it('keeps the status when the derived one is not a transition the state machine allows', async function () {
        const id = await aSubmissionIn([]);
        expect(await store.applyChange({ submissionId: id, at: at(10_000), deliveries: [delivery(id, 'dmp', 'pending')], events: [], deriveStatus: true })).to.equal(true);
        expect((await store.getSubmission(TENANT, id))?.status).to.equal('received');
      });

      it('moves along a status path and derives after it, in one change', async function () {
        const id = await aSubmissionIn(['built', 'signed']);
        expect(await store.applyChange({ submissionId: id, at: at(10_000), deliveries: [delivery(id, 'dmp', 'retrying')], events: [event('retrying')], statusPath: ['sending'], deriveStatus: true })).to.equal(true);
        expect((await store.getSubmission(TENANT, id))?.status).to.equal('retrying');
      });

      it('keeps one record a destination, replaced as it moves on', async function () {
        const id = await aSubmissionIn([]);
        const a = delivery(id, 'mss:dr.a@test.mssante.fr', 'sent', { attempts: 1 }, '<m1@passerelle>');
        const b = delivery(id, 'mss:dr.b@test.mssante.fr', 'sent', { attempts: 1 }, '<m1@passerelle>');
        await store.applyChange({ submissionId: id, at: at(5000), deliveries: [a, b], events: [event('sent'), event('sent')] });
        const acknowledged = { ...a, status: 'delivered' as const, detail: { attempts: 1, acknowledgement: 'mdn-processed' }, updatedAt: at(6000) };
        await store.applyChange({ submissionId: id, at: at(6000), deliveries: [acknowledged], events: [event('acknowledged')] });

        expect(await store.listDeliveries(TENANT, id)).to.deep.equal([acknowledged, b]);
        expect((await store.listEvents(TENANT, id))?.map((e) => e.type)).to.deep.equal(['received', 'validated', 'sent', 'sent', 'acknowledged']);
        expect(await store.listDeliveries(OTHER_TENANT, id)).to.equal(undefined);
      });

      it('finds the destinations an acknowledgement names by their reference, across tenants', async function () {
        const [a, b] = await createMany(2);
        const [c] = await createMany(1, OTHER_TENANT);
        for (const [s, reference] of [[a, '<shared@passerelle>'], [b, '<other@passerelle>'], [c, '<shared@passerelle>']] as const) {
          await store.applyChange({ submissionId: s?.id ?? '', at: at(5000), deliveries: [delivery(s?.id ?? '', 'mss:x@test.mssante.fr', 'sent', {}, reference)], events: [] });
        }
        expect((await store.findDeliveriesByReference('<shared@passerelle>')).map((d) => d.submissionId)).to.deep.equal([a?.id, c?.id].sort());
        expect(await store.findDeliveriesByReference('<unknown@passerelle>')).to.deep.equal([]);
      });
    });

    describe('replay selection', function () {
      const failedWith = (submissionId: string, destination: string, code: string, status: DeliveryStatus = 'failed'): DeliveryRecord => ({
        submissionId,
        destination,
        status,
        reference: null,
        detail: { attempts: 3, error: { code, message: 'refused' } },
        updatedAt: at(9000),
      });

      /** s0…s4 one second apart; s5 another tenant's. */
      async function setUp(): Promise<string[]> {
        const ids = (await createMany(5)).map((s) => s.id);
        const [theirs] = await createMany(1, OTHER_TENANT);
        const [s0 = '', s1 = '', s2 = '', s3 = '', s4 = ''] = ids;
        const deliveries: [string, DeliveryRecord[]][] = [
          [s0, [failedWith(s0, 'dmp', 'XDSPatientIdDoesNotMatch')]],
          [s1, [failedWith(s1, 'mss:dr.a@test.mssante.fr', '550 5.1.1'), { ...failedWith(s1, 'dmp', 'none'), status: 'sent' }]],
          [s2, [{ ...failedWith(s2, 'dmp', 'none'), status: 'sent' }]],
          [s3, [failedWith(s3, 'dmp', 'partner-unavailable'), { ...failedWith(s3, 'mss:dr.b@test.mssante.fr', 'none'), status: 'sent' }]],
          [s4, [failedWith(s4, 'dmp', 'XDSPatientIdDoesNotMatch', 'retrying')]],
          [theirs?.id ?? '', [failedWith(theirs?.id ?? '', 'dmp', 'XDSPatientIdDoesNotMatch')]],
        ];
        for (const [id, list] of deliveries) await store.applyChange({ submissionId: id, at: at(9000), deliveries: list, events: [] });
        const failed = [s0, s1, s3, theirs?.id ?? ''].map((id) => `'${id}'`).join(', ');
        await subject!.execRaw(`UPDATE submissions SET status = 'failed' WHERE id IN (${failed})`);
        return ids;
      }

      it('selects a tenant’s submissions by status, destination, error code and creation time, oldest first', async function () {
        const [s0, s1, s2, s3, s4] = await setUp();
        const find = (filter: Omit<ReplayFilter, 'tenantId' | 'limit'> & { limit?: number }) => store.findSubmissionsToReplay({ tenantId: TENANT, limit: 100, ...filter });

        expect(await find({})).to.deep.equal([s0, s1, s2, s3, s4]);
        expect(await find({ status: 'failed' })).to.deep.equal([s0, s1, s3]);
        expect(await find({ destination: 'dmp' })).to.deep.equal([s0, s3]);
        expect(await find({ destination: 'mss' })).to.deep.equal([s1]);
        expect(await find({ destination: 'mss:dr.a@test.mssante.fr' })).to.deep.equal([s1]);
        expect(await find({ destination: 'mss:dr.b@test.mssante.fr' })).to.deep.equal([]);
        expect(await find({ errorCode: 'XDSPatientIdDoesNotMatch' })).to.deep.equal([s0]);
        expect(await find({ errorCode: '550 5.1.1' })).to.deep.equal([s1]);
        // Both narrow to the same failed delivery.
        expect(await find({ destination: 'dmp', errorCode: '550 5.1.1' })).to.deep.equal([]);
        expect(await find({ since: at(1000), until: at(3000) })).to.deep.equal([s1, s2, s3]);
        expect(await find({ status: 'failed', destination: 'dmp', since: at(1) })).to.deep.equal([s3]);
        expect(await find({ limit: 2 })).to.deep.equal([s0, s1]);
      });

      it('rejects a limit outside 1 to 1000', async function () {
        for (const limit of [0, 1001, 2.5]) {
          expect(await rejection(store.findSubmissionsToReplay({ tenantId: TENANT, limit })), String(limit)).to.be.instanceOf(RangeError);
        }
      });
    });

    describe('audit chain', function () {
      async function allAuditEvents(pageSize = 1000): Promise<SubmissionEvent[]> {
        const events: SubmissionEvent[] = [];
        for (;;) {
          const last = events.at(-1);
          const page = await store.listAuditEvents(last === undefined ? undefined : { submissionId: last.submissionId, seq: last.seq }, pageSize);
          events.push(...page);
          if (page.length < pageSize) return events;
        }
      }

      /** Two submissions with five and two events. */
      async function setUp(): Promise<string> {
        const [s] = await createMany(1);
        await createMany(1, OTHER_TENANT);
        const id = s?.id ?? '';
        await store.applyChange({ submissionId: id, at: at(2000), events: [{ type: 'built', at: at(2000), actor: 'worker', data: { documentId: '2.25.1', warnings: [] } }] });
        await store.applyChange({
          submissionId: id,
          at: at(3000),
          events: [
            { type: 'signed', at: at(3000), actor: 'worker', data: { signer: 'Passerelle' } },
            { type: 'sent', at: at(3001), actor: 'worker', data: { destination: 'dmp', reference: '2.25.1', attempt: 1 } },
          ],
        });
        return id;
      }

      it('chains every event of a submission to the one before, from the genesis', async function () {
        const id = await setUp();
        const events = (await store.listEvents(TENANT, id)) ?? [];

        expect(events.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5]);
        let previous = GENESIS_HASH;
        for (const e of events) {
          expect(e.hash, String(e.seq)).to.equal(eventHash(previous, e));
          previous = e.hash;
        }
        expect(verifyAuditChain(await allAuditEvents())).to.deep.equal({ submissions: 2, events: 7, legacy: 0, broken: [] });
      });

      it('pages through the events of every tenant in (submission, seq) order', async function () {
        await setUp();
        await createMany(2);
        const all = await allAuditEvents();
        const paged = await allAuditEvents(2);

        expect(all).to.have.length(11);
        expect(paged).to.deep.equal(all);
        const keys = all.map((e) => `${e.submissionId}/${String(e.seq).padStart(3, '0')}`);
        expect(keys).to.deep.equal([...keys].sort());
        expect(await rejection(store.listAuditEvents(undefined, 0))).to.be.instanceOf(RangeError);
      });

      it('reports an event edited around the append-only guard as broken at its seq', async function () {
        const id = await setUp();
        await subject!.execRaw(subject!.dropAppendOnlyGuard);
        await subject!.execRaw(`UPDATE submission_events SET data = '{"documentId":"2.25.666","warnings":[]}' WHERE submission_id = '${id}' AND seq = 3`);

        expect(verifyAuditChain(await allAuditEvents()).broken).to.deep.equal([{ submissionId: id, seq: 3, reason: 'hash mismatch' }]);
      });

      it('reports an event deleted around the append-only guard as broken at its seq', async function () {
        const id = await setUp();
        await subject!.execRaw(subject!.dropAppendOnlyGuard);
        await subject!.execRaw(`DELETE FROM submission_events WHERE submission_id = '${id}' AND seq = 4`);

        expect(verifyAuditChain(await allAuditEvents()).broken).to.deep.equal([{ submissionId: id, seq: 4, reason: 'seq gap' }]);
      });

      it('chains the events appended after legacy ones (written before the chain) from the genesis', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        await subject!.execRaw(subject!.dropAppendOnlyGuard);
        await subject!.execRaw(`UPDATE submission_events SET hash = '' WHERE submission_id = '${id}'`);

        await store.applyChange({ submissionId: id, at: at(2000), events: [{ type: 'built', at: at(2000), actor: 'worker', data: {} }] });

        const events = (await store.listEvents(TENANT, id)) ?? [];
        expect(events[2]?.hash).to.equal(eventHash(GENESIS_HASH, events[2]!));
        expect(verifyAuditChain(await allAuditEvents())).to.deep.equal({ submissions: 1, events: 3, legacy: 2, broken: [] });
      });
    });

    describe('API keys', function () {
      it('stores API keys and finds them by id', async function () {
        const key = anApiKey({ role: 'admin' });
        await store.createApiKey(key);

        expect(await store.findApiKey(key.id)).to.deep.equal(key);
        expect(await store.findApiKey(newId('k'))).to.equal(undefined);
      });

      it('lists API keys of every tenant in creation order', async function () {
        const keys = [
          anApiKey({ createdAt: at(2000), label: 'third' }),
          anApiKey({ createdAt: at(0), label: 'first', tenantId: OTHER_TENANT, role: 'support' }),
          anApiKey({ createdAt: at(1000), label: 'second', revokedAt: at(1500) }),
        ];
        for (const key of keys) await store.createApiKey(key);

        const listed = await store.listApiKeys();

        expect(listed.map((key) => key.label)).to.deep.equal(['first', 'second', 'third']);
        expect(listed[1]).to.deep.equal(keys[2]);
      });

      it('revokes an active key once, keeping it findable', async function () {
        const key = anApiKey();
        await store.createApiKey(key);

        expect(await store.revokeApiKey(key.id, at(60_000))).to.equal(true);
        expect(await store.revokeApiKey(key.id, at(120_000))).to.equal(false);
        expect(await store.revokeApiKey(newId('k'), at(60_000))).to.equal(false);
        expect(await store.findApiKey(key.id)).to.deep.equal({ ...key, revokedAt: at(60_000) });
      });

      it('refuses a second key with the same id', async function () {
        const key = anApiKey();
        await store.createApiKey(key);
        expect(await rejection(store.createApiKey({ ...key, label: 'copy' }))).to.be.instanceOf(Error);
      });
    });
  });
}
