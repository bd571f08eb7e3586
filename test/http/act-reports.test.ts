import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { FIXTURE_NAMES, fixture, pdfOfSize, type Mutable } from '../support/fixtures.js';
import { call, startTestGateway, type StoreKind, type TestGateway } from '../support/gateway.js';

for (const kind of ['sqlite', 'postgres'] as const satisfies readonly StoreKind[]) {
  describe(`POST /v1/act-reports (${kind})`, function () {
    let gw: TestGateway;
    let failed = false;
    before(async function () {
      gw = await startTestGateway(this, kind, { PASSERELLE_MAX_PDF_BYTES: '65536', PASSERELLE_MAX_BODY_BYTES: '262144' });
    });
    afterEach(function () {
      failed ||= this.currentTest!.state === 'failed';
    });
    after(async () => {
      await gw?.close(failed);
    });

    const post = (body: unknown, headers: Record<string, string> = {}, token = gw.keys.submitter) => call(`${gw.url}/v1/act-reports`, { token, body, headers });
    const count = async (): Promise<number> => {
      let n = 0;
      let cursor: string | undefined;
      do {
        const page = await call(`${gw.url}/v1/submissions?limit=200${cursor === undefined ? '' : `&cursor=${cursor}`}`, { token: gw.keys.support });
        n += (page.body.items as unknown[]).length;
        cursor = page.body.nextCursor as string | undefined;
      } while (cursor !== undefined);
      return n;
    };

    /** Posts a broken report and checks the exact violations and that nothing was stored. */
    async function expectRejected(report: Mutable, expected: readonly { pointer: string; rule: string }[]): Promise<Mutable> {
      const before = await count();
      const res = await post(report);
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(res.body.type).to.equal('urn:passerelle:problem:validation-failed');
      expect(res.body.instance).to.equal(res.headers.get('x-request-id'));
      const found = (res.body.errors as { pointer: string; rule: string }[]).map((e) => ({ pointer: e.pointer, rule: e.rule }));
      expect(found).to.have.deep.members(expected as { pointer: string; rule: string }[]);
      for (const e of res.body.errors as { message: string; hint?: string }[]) expect(e.message).to.be.a('string').and.not.equal('');
      expect(await count()).to.equal(before);
      return res.body as Mutable;
    }

    for (const name of FIXTURE_NAMES) {
      it(`accepts the ${name} fixture and answers 202 once it is stored`, async () => {
        const res = await post(fixture(name));
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        expect(res.body.id).to.match(/^sub_[0-9A-Z]{26}$/);
        expect(res.body.status).to.equal('received');
        expect(res.headers.get('location')).to.equal(`/v1/submissions/${res.body.id as string}`);
        const stored = await call(`${gw.url}/v1/submissions/${res.body.id as string}`, { token: gw.keys.support });
        expect(stored.status).to.equal(200);
        expect(stored.body.actType).to.equal(fixture(name).act.type);
        const events = await call(`${gw.url}/v1/submissions/${res.body.id as string}/events`, { token: gw.keys.submitter });
        // Intake's two events come first; the pipeline, already at work, appends its own after them.
        expect((events.body.items as { type: string }[]).map((e) => e.type).slice(0, 2)).to.deep.equal(['received', 'validated']);
      });
    }

    it('rejects a NIR whose key does not match, naming the expected key', async () => {
      const r = fixture('teleconsultation');
      r.patient.ins.value = '279035121518988';
      const body = await expectRejected(r, [{ pointer: '/patient/ins/value', rule: 'INS_KEY' }]);
      expect(body.errors[0].message).to.contain('expected 89');
    });

    it('rejects a Corsican NIR whose 2A was typed as 2B', async () => {
      const r = fixture('teleexpertise');
      r.patient.ins.value = '297022B02077878';
      await expectRejected(r, [{ pointer: '/patient/ins/value', rule: 'INS_KEY' }]);
    });

    it('requires every INS trait when an INS is given, and their consistency with the NIR', async () => {
      const r = fixture('teleconsultation');
      delete r.patient.birthGivenNames;
      delete r.patient.birthPlaceCode;
      r.patient.sex = 'M';
      r.patient.birthDate = '1980-03-28';
      await expectRejected(r, [
        { pointer: '/patient/birthGivenNames', rule: 'INS_TRAIT_MISSING' },
        { pointer: '/patient/birthPlaceCode', rule: 'INS_TRAIT_MISSING' },
        { pointer: '/patient/sex', rule: 'INS_SEX_MISMATCH' },
        { pointer: '/patient/birthDate', rule: 'INS_BIRTH_DATE_MISMATCH' },
      ]);
    });

    it('rejects RPPS and FINESS numbers whose check digit is wrong', async () => {
      const r = fixture('teleconsultation');
      r.professionals.author.idNatPs = '801234567123';
      r.organization.idNatStruct = '1750803448';
      await expectRejected(r, [
        { pointer: '/professionals/author/idNatPs', rule: 'RPPS_CHECK_DIGIT' },
        { pointer: '/organization/idNatStruct', rule: 'FINESS_CHECK_DIGIT' },
      ]);
    });

    it('rejects an act that ends before it starts, or lies in the future', async () => {
      const r = fixture('teleconsultation');
      r.act.start = '2026-11-20T14:04:00+01:00';
      r.act.end = '2026-11-20T14:03:30+01:00';
      await expectRejected(r, [{ pointer: '/act/end', rule: 'ACT_END_BEFORE_START' }]);
      const f = fixture('teleconsultation');
      f.act.end = new Date(Date.now() + 86_400_000).toISOString();
      await expectRejected(f, [{ pointer: '/act/end', rule: 'ACT_IN_FUTURE' }]);
    });

    it('rejects an NGAP code that does not fit the act type or the télé-expertise level', async () => {
      const r = fixture('teleexpertise');
      r.act.code = 'TE1';
      await expectRejected(r, [{ pointer: '/act/code', rule: 'NGAP_LEVEL_MISMATCH' }]);
      const t = fixture('teleexpertise');
      t.act.code = 'TCG';
      await expectRejected(t, [{ pointer: '/act/code', rule: 'NGAP_ACT_TYPE_MISMATCH' }]);
      const u = fixture('teleconsultation');
      u.act.code = 'XYZ';
      await expectRejected(u, [{ pointer: '/act/code', rule: 'NGAP_UNKNOWN_CODE' }]);
      const l = fixture('teleexpertise');
      delete l.act.teleExpertiseLevel;
      await expectRejected(l, [{ pointer: '/act/teleExpertiseLevel', rule: 'TELEEXPERTISE_LEVEL_REQUIRED' }]);
    });

    it('requires technical incidents to be stated, even as an empty list', async () => {
      const r = fixture('teleconsultation');
      delete r.technicalIncidents;
      const body = await expectRejected(r, [{ pointer: '/technicalIncidents', rule: 'SCHEMA_REQUIRED' }]);
      expect(body.errors[0].hint).to.contain('"technicalIncidents": []');
    });

    it('rejects a report without informed consent', async () => {
      const r = fixture('teleconsultation');
      r.consent.given = false;
      r.consent.informed = false;
      await expectRejected(r, [{ pointer: '/consent/given', rule: 'CONSENT_NOT_GIVEN' }, { pointer: '/consent/informed', rule: 'CONSENT_NOT_INFORMED' }]);
    });

    it('requires a requérant for a télé-expertise', async () => {
      const r = fixture('teleexpertise');
      delete r.professionals.requester;
      await expectRejected(r, [{ pointer: '/professionals/requester', rule: 'REQUESTER_REQUIRED' }]);
    });

    it('requires the médecin traitant or an explicit statement of its absence', async () => {
      const r = fixture('teleconsultation');
      delete r.professionals.primaryCarePhysician;
      await expectRejected(r, [{ pointer: '/professionals/primaryCarePhysician', rule: 'SCHEMA_REQUIRED' }]);
      const k = fixture('teleconsultation');
      k.professionals.primaryCarePhysician = { status: 'KNOWN' };
      await expectRejected(k, [{ pointer: '/professionals/primaryCarePhysician/professional', rule: 'SCHEMA_REQUIRED' }]);
    });

    it('rejects PDF bytes that are not a PDF, are truncated, or exceed the size limit', async () => {
      const r = fixture('teleconsultation');
      r.report.pdf = Buffer.from('<html>Error 502</html>').toString('base64');
      await expectRejected(r, [{ pointer: '/report/pdf', rule: 'PDF_NOT_A_PDF' }]);
      const t = fixture('teleconsultation');
      t.report.pdf = Buffer.from((Buffer.from(t.report.pdf as string, 'base64').toString('latin1')).slice(0, 300), 'latin1').toString('base64');
      await expectRejected(t, [{ pointer: '/report/pdf', rule: 'PDF_TRUNCATED' }]);
      const big = fixture('teleconsultation');
      big.report.pdf = pdfOfSize(70_000);
      const body = await expectRejected(big, [{ pointer: '/report/pdf', rule: 'PDF_TOO_LARGE' }]);
      expect(body.errors[0].message).to.contain('65536');
      const b64 = fixture('teleconsultation');
      b64.report.pdf = 'data:application/pdf;base64,JVBERi0=';
      await expectRejected(b64, [{ pointer: '/report/pdf', rule: 'PDF_NOT_BASE64' }]);
    });

    it('lists every violation of a report in one answer', async () => {
      const r = fixture('teleexpertise');
      r.patient.ins.value = '297022A02077879';
      r.professionals.legalAuthenticator.idNatPs = '801234567123';
      delete r.professionals.requester;
      delete r.prescriptions;
      r.consent.given = false;
      r.surprise = true;
      await expectRejected(r, [
        { pointer: '/patient/ins/value', rule: 'INS_KEY' },
        { pointer: '/professionals/legalAuthenticator/idNatPs', rule: 'RPPS_CHECK_DIGIT' },
        { pointer: '/professionals/requester', rule: 'REQUESTER_REQUIRED' },
        { pointer: '/prescriptions', rule: 'SCHEMA_REQUIRED' },
        { pointer: '/consent/given', rule: 'CONSENT_NOT_GIVEN' },
        { pointer: '/surprise', rule: 'SCHEMA_UNKNOWN_PROPERTY' },
      ]);
    });

    it('refuses text that no store or XML document can hold (NUL, unpaired surrogates)', async () => {
      const r = fixture('teleconsultation');
      r.report.title = 'Compte rendu\u0000';
      r.prescriptions[0].description = 'broken \ud800 surrogate';
      await expectRejected(r, [
        { pointer: '/report/title', rule: 'TEXT_INVALID_CHARACTER' },
        { pointer: '/prescriptions/0/description', rule: 'TEXT_INVALID_CHARACTER' },
      ]);
    });

    it('refuses control characters XML cannot carry, and a patient the CDA cannot identify', async () => {
      const r = fixture('regulation');
      r.report.text = 'page 1\fpage 2';
      delete r.patient.localIdentifiers;
      await expectRejected(r, [
        { pointer: '/patient', rule: 'PATIENT_IDENTIFIER_REQUIRED' },
        { pointer: '/report/text', rule: 'TEXT_INVALID_CHARACTER' },
      ]);
    });

    it('refuses filing in the DMP against the patient\'s objection or without a qualified INS', async () => {
      const r = fixture('regulation');
      r.sharing.fileInDmp = true;
      r.sharing.dmpOpposition = true;
      await expectRejected(r, [{ pointer: '/sharing/fileInDmp', rule: 'DMP_OPPOSITION_CONFLICT' }, { pointer: '/patient/ins', rule: 'DMP_REQUIRES_INS' }]);
    });

    it('rejects a replacement of a submission that does not exist for the tenant', async () => {
      const created = await post(fixture('teleconsultation'), {}, gw.keys.otherTenant);
      const r = fixture('teleconsultation');
      r.replaces = { submissionId: created.body.id };
      await expectRejected(r, [{ pointer: '/replaces/submissionId', rule: 'REPLACED_SUBMISSION_NOT_FOUND' }]);
      const own = await post(fixture('teleconsultation'));
      const ok = fixture('teleconsultation');
      ok.replaces = { submissionId: own.body.id };
      expect((await post(ok)).status).to.equal(202);
    });

    it('answers malformed JSON with 400, a wrong media type with 415 and an oversized body with 413', async () => {
      const before = await count();
      const malformed = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: '{"act": {', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).to.equal(400);
      expect(malformed.body.type).to.equal('urn:passerelle:problem:malformed-json');
      const xml = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: '<ClinicalDocument/>', headers: { 'content-type': 'application/xml' } });
      expect(xml.status).to.equal(415);
      expect(xml.body.type).to.equal('urn:passerelle:problem:unsupported-media-type');
      const none = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: '{}' });
      expect(none.status).to.equal(415);
      const huge = fixture('teleconsultation');
      huge.report.text = 'x'.repeat(300_000);
      const tooLarge = await post(huge);
      expect(tooLarge.status).to.equal(413);
      expect(tooLarge.body.type).to.equal('urn:passerelle:problem:payload-too-large');
      const scalar = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: '"just a string"', headers: { 'content-type': 'application/json' } });
      expect(scalar.status).to.equal(400);
      const latin1 = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: JSON.stringify(fixture('regulation')), headers: { 'content-type': 'application/json; charset=iso-8859-1' } });
      expect(latin1.status).to.equal(415);
      expect(latin1.body.detail).to.contain('UTF-8');
      const compress = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'compress' } });
      expect(compress.status).to.equal(415);
      const corrupt = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: 'not gzip at all', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expect(corrupt.status).to.equal(400);
      expect(corrupt.body.type).to.equal('urn:passerelle:problem:bad-request');
      // 5 MB of spaces gzip to a few kilobytes: the limit counts the bytes after decompression.
      const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
      expect(bomb.length).to.be.below(10_000);
      const inflated = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: bomb, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expect(inflated.status).to.equal(413);
      expect(await count()).to.equal(before);
    });

    it('accepts a body that starts with a UTF-8 byte-order mark', async () => {
      const res = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, rawBody: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(fixture('regulation')))]), headers: { 'content-type': 'application/json; charset=utf-8' } });
      expect(res.status).to.equal(202);
    });

    describe('Idempotency-Key', () => {
      it('returns the same submission for the same key and body', async () => {
        const key = `idem-${Date.now()}-a`;
        const first = await post(fixture('teleexpertise'), { 'idempotency-key': key });
        const second = await post(fixture('teleexpertise'), { 'idempotency-key': key });
        expect(first.status).to.equal(202);
        expect(second.status).to.equal(202);
        expect(second.body.id).to.equal(first.body.id);
        expect(second.headers.get('idempotent-replayed')).to.equal('true');
        expect(first.headers.get('idempotent-replayed')).to.equal(null);
      });

      it('answers 409 when the key is reused with another body, and stores nothing', async () => {
        const key = `idem-${Date.now()}-b`;
        await post(fixture('teleexpertise'), { 'idempotency-key': key });
        const before = await count();
        const other = fixture('teleexpertise');
        other.report.title = 'Another title';
        const res = await post(other, { 'idempotency-key': key });
        expect(res.status).to.equal(409);
        expect(res.body.type).to.equal('urn:passerelle:problem:idempotency-conflict');
        expect(await count()).to.equal(before);
      });

      it('creates one submission when the same request races with itself', async () => {
        const key = `idem-${Date.now()}-c`;
        const results = await Promise.all(Array.from({ length: 12 }, () => post(fixture('regulation'), { 'idempotency-key': key })));
        expect(results.map((r) => r.status)).to.deep.equal(Array(12).fill(202));
        expect(new Set(results.map((r) => r.body.id as string)).size).to.equal(1);
      });

      it('lets two tenants use the same key independently', async () => {
        const key = `idem-${Date.now()}-d`;
        const a = await post(fixture('regulation'), { 'idempotency-key': key });
        const b = await post(fixture('regulation'), { 'idempotency-key': key }, gw.keys.otherTenant);
        expect(a.body.id).to.not.equal(b.body.id);
      });

      it('rejects a key that is not printable ASCII', async () => {
        const res = await post(fixture('regulation'), { 'idempotency-key': 'x'.repeat(300) });
        expect(res.status).to.equal(400);
        expect(res.body.errors[0].pointer).to.equal('/headers/idempotency-key');
      });
    });
  });
}
