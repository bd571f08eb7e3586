import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CDA_TEMPLATES_DIR, loadCdaTemplates } from '../../src/cda/templates.js';
import { DEFAULT_NGAP_ACT_CODES } from '../../src/domain/act.js';
import { loadConfig } from '../../src/config/config.js';
import { BuildStep } from '../../src/pipeline/steps/build.js';
import { Worker } from '../../src/pipeline/worker.js';
import { openStore } from '../../src/store/open-store.js';
import { createLogger } from '../../src/support/logger.js';
import { newId } from '../../src/support/new-id.js';
import { xmllintSchema } from '../support/cda.js';
import { fixture } from '../support/fixtures.js';
import { call, startTestGateway, type StoreKind, type TestGateway } from '../support/gateway.js';
import { requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';

/** Polls the submission until it leaves `received`. */
async function settled(gw: TestGateway, id: string): Promise<{ status: string }> {
  for (let i = 0; i < 200; i++) {
    const res = await call(`${gw.url}/v1/submissions/${id}`, { token: gw.keys.submitter });
    if (res.body.status !== 'received') return res.body as { status: string };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`submission ${id} was not built in time`);
}

async function fetchBytes(url: string, token: string): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

for (const kind of ['sqlite', 'postgres'] as StoreKind[]) {
  describe(`the gateway builds each submission's document (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestGateway;
    before(async function () { gw = await startTestGateway(this, kind); });
    after(async function () { await gw?.close(this.currentTest?.state === 'failed'); });

    it('builds the TLM-CR of an accepted report, records it, and serves it and its PDF', async function () {
      requireShared(this, 'ans-cisis');
      requireTool(this, 'xmllint', 'libxml2-utils');
      const posted = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, body: fixture('teleexpertise') });
      expect(posted.status).to.equal(202);
      const id = posted.body.id as string;
      expect((await settled(gw, id)).status).to.equal('built');
      const events = await call(`${gw.url}/v1/submissions/${id}/events`, { token: gw.keys.submitter });
      const built = events.body.items.at(-1);
      expect(built.type).to.equal('built');
      expect(built.data).to.include({ documentType: 'tlm-cr', volet: 'TLM-CR_2022.01', versionNumber: 1 });

      const xml = await fetchBytes(`${gw.url}/v1/submissions/${id}/document`, gw.keys.submitter);
      expect(xml.status).to.equal(200);
      expect(xml.type).to.match(/^application\/xml/);
      const xsd = xmllintSchema(xml.bytes);
      expect(xsd.ok, xsd.output).to.equal(true);
      expect(xml.bytes.toString('utf8')).to.contain(`<id root="${String(built.data.documentId)}"/>`);
      const pdf = await fetchBytes(`${gw.url}/v1/submissions/${id}/document.pdf`, gw.keys.support);
      expect(pdf.status).to.equal(200);
      expect(pdf.bytes.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
      // Another tenant sees nothing.
      expect((await fetchBytes(`${gw.url}/v1/submissions/${id}/document`, gw.keys.otherTenant)).status).to.equal(404);
    });

    it('builds a replacement by submission id: same set, next version, RPLC on the first document', async () => {
      const first = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, body: fixture('teleconsultation') });
      const second = await call(`${gw.url}/v1/act-reports`, { token: gw.keys.submitter, body: { ...fixture('teleconsultation'), replaces: { submissionId: first.body.id } } });
      expect(second.status).to.equal(202);
      expect((await settled(gw, second.body.id as string)).status).to.equal('built');
      const a = (await fetchBytes(`${gw.url}/v1/submissions/${String(first.body.id)}/document`, gw.keys.submitter)).bytes.toString('utf8');
      const b = (await fetchBytes(`${gw.url}/v1/submissions/${String(second.body.id)}/document`, gw.keys.submitter)).bytes.toString('utf8');
      const idOf = (xml: string, tag: string): string | undefined => new RegExp(`<${tag} root="([^"]+)"/>`).exec(xml)?.[1];
      expect(idOf(b, 'setId')).to.equal(idOf(a, 'setId'));
      expect(b).to.contain('<versionNumber value="2"/>');
      expect(b).to.contain(`<relatedDocument typeCode="RPLC">\n    <parentDocument>\n      <id root="${idOf(a, 'id') ?? '?'}"/>`);
    });

    it('answers 404 with a problem for a submission without a document', async () => {
      const res = await call(`${gw.url}/v1/submissions/${newId('sub')}/document`, { token: gw.keys.submitter });
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });
  });
}

describe('the build step', function () {
  this.timeout(30_000);

  it('fails a submission whose document does not pass the checks, recording every reason, and keeps going', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passerelle-build-step-'));
    const store = openStore(`sqlite:${join(dir, 'p.db')}`);
    try {
      await store.migrate();
      cpSync(CDA_TEMPLATES_DIR, join(dir, 'templates'), { recursive: true });
      const cr = JSON.parse(readFileSync(join(dir, 'templates', 'tlm-cr.json'), 'utf8')) as { templateIds: { root: string }[] };
      cr.templateIds = cr.templateIds.map((t) => (t.root === '1.2.250.1.213.1.1.1.1' ? { root: '1.2.250.1.999.1' } : t));
      writeFileSync(join(dir, 'templates', 'tlm-cr.json'), JSON.stringify(cr));
      const id = newId('sub');
      const at = new Date();
      await store.createSubmission({ id, tenantId: 't', idempotencyKey: null, requestHash: 'h', requestId: 'r', actType: 'TELEEXPERTISE', input: fixture('teleexpertise'), createdAt: at, events: [{ type: 'received', at, actor: 'test', data: {} }] });
      const build = new BuildStep({ store, dmp: false, factory: { templates: loadCdaTemplates(join(dir, 'templates')), actCodes: DEFAULT_NGAP_ACT_CODES, timeZone: 'Europe/Paris', textBodyAs: 'pdf' } });
      const step = new Worker({ store, steps: [build], config: loadConfig({}).pipeline, logger: createLogger('silent') });
      expect(await step.runOnce()).to.equal(1);
      expect((await store.getSubmission('t', id))?.status).to.equal('failed');
      const failure = (await store.listEvents('t', id))?.at(-1);
      expect(failure?.type).to.equal('build-failed');
      expect(JSON.stringify(failure?.data)).to.contain('document-invalid').and.contain('CISIS-HDR-TEMPLATE-CISIS');
      // The failure is final: its job is in the dead letter, not waiting for another attempt.
      expect(await step.runOnce()).to.equal(0);
      expect((await store.listJobs('t', id))?.map((j) => [j.kind, j.state, j.attempts])).to.deep.equal([['build', 'dead', 1]]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
