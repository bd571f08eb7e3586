import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CDA_TEMPLATES_DIR, loadCdaTemplates } from '../../src/cda/templates.js';
import { PasserelleError } from '../../src/domain/errors.js';
import type { ActReport } from '../../src/domain/act-report.js';
import { DEFAULT_NGAP_ACT_CODES } from '../../src/domain/act.js';
import { produceDocument } from '../../src/pipeline/produce-document.js';
import { BUILD_NOW, build } from '../support/cda.js';
import { misplacedFields } from '../support/cda-fields.js';
import { runCli } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';
import { KIT_DIR, requireShared } from '../support/shared.js';

const NOW = ['--now', BUILD_NOW.toISOString()];

describe('passerelle cda build', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'passerelle-cda-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });
  const input = (name: string, report: object): string => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(report));
    return path;
  };

  it('writes the same document for the same report and clock, and its PDF copy, checked with the kit', async function () {
    requireShared(this, 'ans-cisis');
    const path = input('tle.json', fixture('teleexpertise'));
    const a = await runCli(['cda', 'build', '--input', path, ...NOW, '--kit', KIT_DIR, '--output', join(dir, 'a.xml'), '--pdf', join(dir, 'a.pdf')]);
    expect(a.code, a.stderr).to.equal(0);
    expect(a.stderr).to.contain('TLM-CR_2022.01').and.contain('checked with the built-in rules and the ANS kit');
    const b = await runCli(['cda', 'build', '--input', path, ...NOW]);
    expect(b.code, b.stderr).to.equal(0);
    expect(b.stdout).to.equal(readFileSync(join(dir, 'a.xml'), 'utf8'));
    expect(readFileSync(join(dir, 'a.pdf')).subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    const da = await runCli(['cda', 'build', '--type', 'tlm-da', '--input', path, ...NOW]);
    expect(da.code, da.stderr).to.equal(0);
    expect(da.stdout).to.contain('<templateId root="1.2.250.1.213.1.1.1.38" extension="2022.01"/>');
  });

  it('refuses a report that breaks the intake rules, listing every violation (exit 1)', async () => {
    const report = fixture('teleexpertise');
    report.patient.ins.value = '297022A02077899';
    delete report.consent.at;
    const r = await runCli(['cda', 'build', '--input', input('bad.json', report), ...NOW]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('/patient/ins/value').and.contain('/consent');
  });

  it('says what a TLM-DA lacks (exit 1), and refuses a replacement it cannot resolve', async () => {
    const report = fixture('teleconsultation');
    delete report.request;
    const r = await runCli(['cda', 'build', '--type', 'tlm-da', '--input', input('no-request.json', report), ...NOW]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('/request').and.contain('/professionals/requester');
    const replacing = { ...fixture('teleconsultation'), replaces: { submissionId: 'sub_01JD5ZQ0000000000000000000' } };
    const s = await runCli(['cda', 'build', '--input', input('replacing.json', replacing), ...NOW]);
    expect(s.code).to.equal(1);
    expect(s.stderr).to.contain('replaces.documentId');
  });

  it('exits 2 on usage errors, unreadable input and malformed JSON', async () => {
    expect((await runCli(['cda', 'build'])).code).to.equal(2);
    expect((await runCli(['cda', 'build', '--input', join(dir, 'none.json')])).stderr).to.contain('cannot read');
    expect((await runCli(['cda', 'build', '--input', input('x.json', {}), '--type', 'tlm-xx'])).code).to.equal(2);
    writeFileSync(join(dir, 'broken.json'), '{"act":');
    expect((await runCli(['cda', 'build', '--input', join(dir, 'broken.json')])).code).to.equal(2);
  });
});

describe('document types (cda-templates/)', () => {
  it('loads the two volets with their data', () => {
    const templates = loadCdaTemplates();
    expect(templates['tlm-cr'].code.code).to.equal('85208-7');
    expect(templates['tlm-da'].templateIds.map((t) => t.root)).to.include('1.2.250.1.213.1.1.1.38');
  });

  it('refuses broken files at start-up, naming every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passerelle-templates-'));
    try {
      cpSync(CDA_TEMPLATES_DIR, dir, { recursive: true });
      const cr = JSON.parse(readFileSync(join(dir, 'tlm-cr.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'tlm-cr.json'), JSON.stringify({ ...cr, level: 3, serviceEventCodeSystem: '1.2.3' }));
      const da = JSON.parse(readFileSync(join(dir, 'tlm-da.json'), 'utf8')) as { sections: Record<string, unknown> };
      delete da.sections.treatments;
      writeFileSync(join(dir, 'tlm-da.json'), JSON.stringify(da));
      let error: unknown;
      try { loadCdaTemplates(dir); } catch (e) { error = e; }
      expect(error).to.be.instanceOf(PasserelleError);
      const rules = (error as PasserelleError).violations.map((v) => `${v.pointer} ${v.rule}`);
      expect((error as PasserelleError).code).to.equal('config-invalid');
      expect(rules.join('\n')).to.contain('tlm-cr.json#').and.contain('tlm-da.json#/sections TEMPLATE_SECTION_MISSING');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('build, then check', () => {
  it('never returns a document that fails the checks: a template without the CI-SIS header templateId gives document-invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passerelle-templates-'));
    try {
      cpSync(CDA_TEMPLATES_DIR, dir, { recursive: true });
      const cr = JSON.parse(readFileSync(join(dir, 'tlm-cr.json'), 'utf8')) as { templateIds: { root: string }[] };
      cr.templateIds = cr.templateIds.map((t) => (t.root === '1.2.250.1.213.1.1.1.1' ? { root: '1.2.250.1.999.1' } : t));
      writeFileSync(join(dir, 'tlm-cr.json'), JSON.stringify(cr));
      const factory = { templates: loadCdaTemplates(dir), actCodes: DEFAULT_NGAP_ACT_CODES, timeZone: 'Europe/Paris', textBodyAs: 'pdf' as const };
      let error: unknown;
      try { await produceDocument(fixture('teleexpertise') as ActReport, { type: 'tlm-cr', seed: 's', now: BUILD_NOW }, factory); } catch (e) { error = e; }
      expect((error as PasserelleError).code).to.equal('document-invalid');
      expect((error as PasserelleError).violations.map((v) => v.rule)).to.include('CISIS-HDR-TEMPLATE-CISIS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the field check names what a document lacks (it can fail)', async () => {
    const report = fixture('teleexpertise') as ActReport;
    const built = await build(report, 'tlm-cr');
    const other = fixture('teleexpertise');
    other.patient.birthFamilyName = 'AUTRE';
    other.prescriptions = [];
    other.professionals.author.familyName = 'MARTIN';
    expect(misplacedFields(other as ActReport, built).map((m) => m.split(':')[0])).to.deep.equal(['birth family name', 'author family name']);
  });
});
