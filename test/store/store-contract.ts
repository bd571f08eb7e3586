/**
 * The behaviour every Store must have, run against each backend by its own test file. Each test
 * gets a fresh, migrated, empty store.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Role } from '../../src/domain/submission.js';
import type { ApiKeyRecord, DocumentRecord, Json, NewSubmission, Store, SubmissionRecord } from '../../src/store/store.js';
import { encodeCursor } from '../../src/store/pagination.js';
import { newId } from '../../src/support/new-id.js';
import { rejection } from './rejection.js';

export interface StoreUnderTest {
  readonly store: Store;
  /** Runs SQL through the backend's own driver, around the Store, to check database-level guards. */
  execRaw(sql: string): Promise<void>;
  /** Closes the store and deletes its data, which a failed test may keep for inspection. */
  cleanup(outcome: { readonly testFailed: boolean }): Promise<void>;
}

const TENANT = 'clinic-lyon';
const OTHER_TENANT = 'clinic-brest';
const T0 = new Date('2026-11-22T05:10:00.123Z');

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

        expect(events).to.deep.equal([
          { seq: 1, submissionId: submission.id, type: 'received', at: T0, actor: 'apikey:k_1', data: { requestId: 'req_01', bytes: 812, key: null } },
          { seq: 2, submissionId: submission.id, type: 'validated', at: at(7), actor: 'gateway', data: { actCode: 'TLC', rules: ['R1', 'R2'] } },
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

    describe('documents', function () {
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
      const built = { type: 'built' as const, at: at(10_000), actor: 'worker:build', data: { volet: 'TLM-CR_2022.01' } };

      it('lists the received submissions of every tenant to build, oldest first, and not the others', async function () {
        const [a, b] = await createMany(2);
        const [c] = await createMany(1, OTHER_TENANT);
        expect((await store.listSubmissionsToBuild(10)).map((s) => s.id)).to.deep.equal([a?.id, c?.id, b?.id].sort());
        await store.recordDocument(aDocument(a?.id ?? ''), built);
        expect((await store.listSubmissionsToBuild(10)).map((s) => s.id)).to.not.include(a?.id);
        expect(await store.listSubmissionsToBuild(1)).to.have.length(1);
      });

      it('records a document once, atomically with the status and the event, and gives it back byte for byte', async function () {
        const [s] = await createMany(1);
        const document = aDocument(s?.id ?? '');
        expect(await store.recordDocument(document, built)).to.equal(true);
        expect(await store.recordDocument(aDocument(s?.id ?? ''), built)).to.equal(false);
        expect(await store.getDocument(TENANT, s?.id ?? '')).to.deep.equal(document);
        expect(await store.getDocument(OTHER_TENANT, s?.id ?? '')).to.equal(undefined);
        expect((await store.getSubmission(TENANT, s?.id ?? ''))?.status).to.equal('built');
        expect((await store.listEvents(TENANT, s?.id ?? ''))?.map((e) => [e.seq, e.type])).to.deep.equal([[1, 'received'], [2, 'validated'], [3, 'built']]);
      });

      it('writes nothing when the document cannot be stored (a document id used twice)', async function () {
        const [a, b] = await createMany(2);
        await store.recordDocument(aDocument(a?.id ?? '', { documentId: '2.25.7' }), built);
        expect(await rejection(store.recordDocument(aDocument(b?.id ?? '', { documentId: '2.25.7' }), built))).to.be.instanceOf(Error);
        expect((await store.getSubmission(TENANT, b?.id ?? ''))?.status).to.equal('received');
        expect(await store.listEvents(TENANT, b?.id ?? '')).to.have.length(2);
      });

      it('records a build failure once, with its event', async function () {
        const [s] = await createMany(1);
        const failed = { type: 'build-failed' as const, at: at(9000), actor: 'worker:build', data: { code: 'document-invalid' } };
        expect(await store.recordBuildFailure(s?.id ?? '', failed)).to.equal(true);
        expect(await store.recordBuildFailure(s?.id ?? '', failed)).to.equal(false);
        expect(await store.recordDocument(aDocument(s?.id ?? ''), built)).to.equal(false);
        expect((await store.getSubmission(TENANT, s?.id ?? ''))?.status).to.equal('failed');
        expect((await store.listEvents(TENANT, s?.id ?? ''))?.at(-1)).to.deep.include({ seq: 3, type: 'build-failed', data: { code: 'document-invalid' } });
      });
    });

    describe('deliveries', function () {
      const sent = (destination: string, reference: string | null, status: 'sent' | 'delivered' | 'failed' = 'sent', detail: Json = { replyCode: 250 }) => ({
        delivery: { submissionId: '', destination, status, reference, detail, updatedAt: at(5000) },
        event: { type: 'sent' as const, at: at(5000), actor: 'worker:mss', data: { destination } },
      });

      it('keeps one record a destination, replaced as it moves on, each change with its event', async function () {
        const [s] = await createMany(1);
        const id = s?.id ?? '';
        const first = sent('mss:dr.a@test.mssante.fr', '<m1@passerelle>');
        const second = sent('mss:dr.b@test.mssante.fr', '<m1@passerelle>');
        expect(await store.recordDelivery({ ...first.delivery, submissionId: id }, first.event)).to.equal(true);
        expect(await store.recordDelivery({ ...second.delivery, submissionId: id }, second.event)).to.equal(true);
        const acknowledged = { submissionId: id, destination: 'mss:dr.a@test.mssante.fr', status: 'delivered' as const, reference: '<m1@passerelle>', detail: { acknowledgement: 'mdn-processed' }, updatedAt: at(6000) };
        expect(await store.recordDelivery(acknowledged, { type: 'acknowledged', at: at(6000), actor: 'worker:mss', data: { destination: acknowledged.destination } })).to.equal(true);
        expect(await store.listDeliveries(TENANT, id)).to.deep.equal([acknowledged, { ...second.delivery, submissionId: id }]);
        expect((await store.listEvents(TENANT, id))?.map((e) => e.type)).to.deep.equal(['received', 'validated', 'sent', 'sent', 'acknowledged']);
        expect(await store.listDeliveries(OTHER_TENANT, id)).to.equal(undefined);
      });

      it('finds the destinations an acknowledgement names by their reference, across tenants', async function () {
        const [a, b] = await createMany(2);
        const one = sent('mss:x@test.mssante.fr', '<shared@passerelle>');
        await store.recordDelivery({ ...one.delivery, submissionId: a?.id ?? '' }, one.event);
        await store.recordDelivery({ ...one.delivery, submissionId: b?.id ?? '', reference: '<other@passerelle>' }, one.event);
        expect((await store.findDeliveriesByReference('<shared@passerelle>')).map((d) => d.submissionId)).to.deep.equal([a?.id]);
        expect(await store.findDeliveriesByReference('<unknown@passerelle>')).to.deep.equal([]);
      });

      it('writes nothing for a submission that does not exist', async function () {
        const one = sent('dmp', null);
        expect(await store.recordDelivery({ ...one.delivery, submissionId: 'no-such-submission' }, one.event)).to.equal(false);
        expect(await store.findDeliveriesByReference('dmp')).to.deep.equal([]);
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
