import { expect } from 'chai';
import { createApiKey } from '../../src/auth/api-keys.js';
import { FIXTURE_NAMES, fixture } from '../support/fixtures.js';
import { call, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('The REST API around submissions', function () {
  let gw: TestGateway;
  before(async function () {
    gw = await startTestGateway(this, 'sqlite');
  });
  after(async () => {
    await gw?.close();
  });
  const submit = async (token = gw.keys.submitter): Promise<string> => {
    const res = await call(`${gw.url}/v1/act-reports`, { token, body: fixture('regulation') });
    expect(res.status).to.equal(202);
    return res.body.id as string;
  };

  describe('authentication and roles', () => {
    it('answers 401 with a Bearer challenge without a key, with a malformed key and with an unknown key', async () => {
      for (const token of [undefined, 'nonsense', 'key_01JD0000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
        const res = await call(`${gw.url}/v1/submissions`, token === undefined ? {} : { token });
        expect(res.status, String(token)).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
        expect(res.body.type).to.equal('urn:passerelle:problem:unauthenticated');
      }
    });

    it('refuses a revoked key', async () => {
      const { record, token } = await createApiKey(gw.gateway.store, { tenantId: 'acme', role: 'submitter', label: 'to revoke' });
      expect((await call(`${gw.url}/v1/submissions`, { token })).status).to.equal(200);
      await gw.gateway.store.revokeApiKey(record.id, new Date());
      expect((await call(`${gw.url}/v1/submissions`, { token })).status).to.equal(401);
    });

    it('refuses a key whose secret is wrong even when its id exists', async () => {
      const [id] = gw.keys.submitter.split('.');
      const res = await call(`${gw.url}/v1/submissions`, { token: `${id ?? ''}.${'B'.repeat(43)}` });
      expect(res.status).to.equal(401);
    });

    it('lets a support key read but not submit', async () => {
      const res = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.support, body: fixture('regulation') });
      expect(res.status).to.equal(403);
      expect(res.body.type).to.equal('urn:passerelle:problem:forbidden');
      expect((await call(`${gw.url}/v1/submissions`, { token: gw.keys.support })).status).to.equal(200);
    });
  });

  describe('tenant isolation', () => {
    it("answers 404 for another tenant's submission and its events", async () => {
      const id = await submit(gw.keys.otherTenant);
      expect((await call(`${gw.url}/v1/submissions/${id}`, { token: gw.keys.otherTenant })).status).to.equal(200);
      for (const path of [`/v1/submissions/${id}`, `/v1/submissions/${id}/events`]) {
        const res = await call(`${gw.url}${path}`, { token: gw.keys.admin });
        expect(res.status, path).to.equal(404);
        expect(res.body.type).to.equal('urn:passerelle:problem:not-found');
      }
      const list = await call(`${gw.url}/v1/submissions?limit=200`, { token: gw.keys.admin });
      expect((list.body.items as { id: string }[]).map((s) => s.id)).to.not.include(id);
    });

    it('answers 404 for ids that are not submission ids', async () => {
      for (const id of ['nope', 'sub_..%2F..', 'sub_01JD00000000000000000000000']) {
        expect((await call(`${gw.url}/v1/submissions/${id}`, { token: gw.keys.admin })).status, id).to.equal(404);
      }
    });
  });

  describe('GET /v1/submissions', () => {
    it('pages through the submissions, newest first, with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await submit(gw.keys.admin));
      const since = (await call(`${gw.url}/v1/submissions/${ids[0] ?? ''}`, { token: gw.keys.admin })).body.createdAt as string;
      const seen: string[] = [];
      let next: string | undefined = `/v1/submissions?limit=2&since=${encodeURIComponent(since)}`;
      while (next !== undefined) {
        const page = await call(`${gw.url}${next}`, { token: gw.keys.admin });
        expect(page.status).to.equal(200);
        expect((page.body.items as unknown[]).length).to.be.at.most(2);
        seen.push(...(page.body.items as { id: string }[]).map((s) => s.id));
        next = page.body.links?.next as string | undefined;
      }
      expect(seen.filter((id) => ids.includes(id))).to.deep.equal([...ids].reverse());
    });

    it('filters by status', async () => {
      const id = await submit();
      // The pipeline moves it on meanwhile: filter on the status it has once it stopped moving.
      let status = '';
      for (let i = 0; i < 100 && status !== 'built'; i++) {
        status = (await call(`${gw.url}/v1/submissions/${id}`, { token: gw.keys.support })).body.status as string;
        if (status !== 'built') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const built = await call(`${gw.url}/v1/submissions?status=built`, { token: gw.keys.support });
      expect((built.body.items as { id: string; status: string }[]).map((s) => s.id)).to.include(id);
      expect((built.body.items as { status: string }[]).every((s) => s.status === 'built')).to.equal(true);
      const failed = await call(`${gw.url}/v1/submissions?status=failed`, { token: gw.keys.support });
      expect(failed.body.items).to.deep.equal([]);
    });

    it('lists every problem of a bad query', async () => {
      const res = await call(`${gw.url}/v1/submissions?status=lost&limit=0&since=yesterday&colour=blue`, { token: gw.keys.support });
      expect(res.status).to.equal(400);
      expect((res.body.errors as { pointer: string }[]).map((e) => e.pointer)).to.have.members(['/query/status', '/query/limit', '/query/since', '/query/colour']);
    });

    it('rejects a cursor it did not issue', async () => {
      const res = await call(`${gw.url}/v1/submissions?cursor=not-a-cursor`, { token: gw.keys.support });
      expect(res.status).to.equal(400);
      expect(res.body.errors[0].pointer).to.equal('/query/cursor');
    });
  });

  describe('problem details', () => {
    it('uses the caller\'s request id when it is safe, and its own otherwise', async () => {
      const mine = await call(`${gw.url}/v1/nowhere`, { token: gw.keys.admin, headers: { 'x-request-id': 'platform-trace.42' } });
      expect(mine.status).to.equal(404);
      expect(mine.body.instance).to.equal('platform-trace.42');
      const unsafe = await call(`${gw.url}/v1/nowhere`, { token: gw.keys.admin, headers: { 'x-request-id': 'a b<script>' } });
      expect(unsafe.body.instance).to.match(/^req_[0-9A-Z]{26}$/);
    });

    it('answers 405 with Allow for a wrong method', async () => {
      const res = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.admin });
      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('POST');
    });
  });

  describe('operations endpoints', () => {
    it('serves liveness and readiness without authentication', async () => {
      expect((await call(`${gw.url}/healthz`)).body).to.deep.equal({ status: 'ok' });
      expect((await call(`${gw.url}/readyz`)).body).to.deep.equal({ status: 'ready', store: 'sqlite' });
    });

    it('exposes Prometheus metrics counting accepted and rejected reports', async () => {
      await submit();
      const bad = fixture('regulation');
      bad.consent.given = false;
      await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, body: bad });
      const res = await call(`${gw.url}/metrics`);
      expect(res.status).to.equal(200);
      expect(res.body).to.match(/passerelle_act_reports_accepted_total\{act_type="REGULATION"\} [1-9]/);
      expect(res.body).to.match(/passerelle_act_reports_rejected_total\{rule="CONSENT_NOT_GIVEN"\} 1/);
      expect(res.body).to.match(/passerelle_http_request_duration_seconds_bucket\{le="0.05",method="POST",route="\/v1\/act-reports"\}/);
    });

    it('publishes an OpenAPI 3.1 document embedding the act-report schema, and a docs page', async () => {
      const doc = await call(`${gw.url}/openapi.json`);
      expect(doc.body.openapi).to.equal('3.1.0');
      expect(doc.body.components.schemas.ActReport.properties.patient.$ref).to.equal('#/components/schemas/ActReport.patient');
      expect(doc.body.components.schemas['ActReport.patient'].properties.ins).to.be.an('object');
      const examples = doc.body.paths['/v1/act-reports'].post.requestBody.content['application/json'].examples;
      expect(Object.keys(examples)).to.have.members([...FIXTURE_NAMES]).and.include('teleexpertise');
      expect(examples.teleexpertise.summary).to.equal('TELEEXPERTISE (TE2)');
      // Every reference resolves inside the document: tools such as Swagger UI need nothing else.
      const refs: string[] = [];
      const collect = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(collect);
        else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) (k === '$ref' && typeof v === 'string' ? refs.push(v) : collect(v));
      };
      collect(doc.body);
      expect(refs.length).to.be.greaterThan(30);
      for (const ref of refs) {
        expect(ref, ref).to.match(/^#\//);
        const target = ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce<any>((node, key) => node?.[key], doc.body);
        expect(target, ref).to.be.an('object');
      }
      expect(Object.keys(doc.body.paths as object)).to.include.members(['/v1/act-reports', '/v1/submissions', '/v1/submissions/{id}', '/v1/submissions/{id}/events']);
      const page = await call(`${gw.url}/docs`);
      expect(page.status).to.equal(200);
      expect(page.body).to.contain('swagger-ui-bundle.js');
      expect((await fetch(`${gw.url}/docs/assets/swagger-ui-bundle.js`)).status).to.equal(200);
    });
  });
});
