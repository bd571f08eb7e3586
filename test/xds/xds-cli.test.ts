import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parseSubmitObjectsRequest } from '../../src/xds/ebrim.js';
import { runCli } from '../support/cli.js';
import { KIT_DIR, requireShared } from '../support/shared.js';
import { requireTool } from '../support/tools.js';

const fixtureCda = (name: string): string => fileURLToPath(new URL(`../../fixtures/cda/${name}`, import.meta.url));

describe('passerelle xds metadata', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'passerelle-xds-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('prints a SubmitObjectsRequest of the ANS TLM-CR example that xmllint validates against lcm.xsd', async function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    const xsd = requireShared(this, 'ihe/schema/lcm.xsd');
    requireShared(this, 'ans-cisis/examples/TLM-CR_2022.01.xml');
    const r = await runCli(['xds', 'metadata', `${KIT_DIR}examples/TLM-CR_2022.01.xml`]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('1.3.6.1.4.1.19376.1.2.20.2022.1.1').and.contain('development repository');
    const output = file('tlm-cr.xml', r.stdout);
    expect(() => execFileSync('xmllint', ['--noout', '--nonet', '--schema', xsd, output], { stdio: ['ignore', 'pipe', 'pipe'] })).not.to.throw();
    const request = parseSubmitObjectsRequest(r.stdout);
    const [entry] = request.documentEntries;
    expect(entry?.uniqueId).to.equal('1.3.6.1.4.1.19376.1.2.20.2022.1.1');
    expect(entry?.patientId).to.deep.equal({ id: '279035121518989', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' });
    expect(entry?.repositoryUniqueId).to.equal('2.999.1.1');
    expect(request.submissionSet.sourceId).to.equal('2.999.1.2');
    expect(request.associations.map((a) => a.type)).to.deep.equal(['urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember']);
  });

  it('takes the repository, sourceId and contentTypeCode from --config, and the masking from --masking', async function () {
    requireTool(this, 'xmllint', 'libxml2-utils');
    const xsd = requireShared(this, 'ihe/schema/lcm.xsd');
    const config = file('config.json', JSON.stringify({
      dmp: { repositoryUniqueId: '1.2.250.1.213.1.1.9.77', sourceId: '1.2.250.1.999.42', contentTypeCode: { code: '04', codeSystem: '1.2.250.1.213.2.2', displayName: 'Hospitalisation de Jour' } },
    }));
    const r = await runCli(['xds', 'metadata', '--config', config, '--masking', 'ps,legal', fixtureCda('teleexpertise.tlm-da.xml')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(() => execFileSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file('tlm-da.xml', r.stdout)], { stdio: ['ignore', 'pipe', 'pipe'] })).not.to.throw();
    const request = parseSubmitObjectsRequest(r.stdout);
    const [entry] = request.documentEntries;
    expect(entry?.repositoryUniqueId).to.equal('1.2.250.1.213.1.1.9.77');
    expect(entry?.formatCode.code).to.equal('urn:asip:ci-sis:tlm-da:2020');
    expect(entry?.confidentialityCodes.map((c) => c.code)).to.deep.equal(['N', 'MASQUE_PS', 'INVISIBLE_REPRESENTANTS_LEGAUX']);
    expect(request.submissionSet.sourceId).to.equal('1.2.250.1.999.42');
    expect(request.submissionSet.contentTypeCode).to.deep.equal({ code: '04', codingScheme: '1.2.250.1.213.2.2', displayName: 'Hospitalisation de Jour' });
  });

  it('says that a replacement needs the replaced entry, which only the DMP knows', async () => {
    const r = await runCli(['xds', 'metadata', fixtureCda('teleconsultation-replacement.tlm-cr.xml')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('replaces 2.25.299354393522474069374380766618218396031').and.contain('RPLC');
  });

  it('lists every problem of the configuration (exit 3)', async () => {
    const config = file('bad.json', JSON.stringify({ dmp: { repositoryUniqueId: 'repo', sourceId: 42, contentTypeCode: { code: '', codeSystem: 'y' } } }));
    const r = await runCli(['xds', 'metadata', '--config', config, fixtureCda('teleconsultation.tlm-cr.xml')]);
    expect(r.code).to.equal(3);
    for (const pointer of ['/dmp/repositoryUniqueId', '/dmp/sourceId', '/dmp/contentTypeCode']) expect(r.stderr).to.contain(pointer);
    expect(r.stdout).to.equal('');
    const notJson = await runCli(['xds', 'metadata', '--config', file('not.json', '{'), fixtureCda('teleconsultation.tlm-cr.xml')]);
    expect(notJson.code).to.equal(3);
  });

  it('refuses a CDA without INS (exit 1), naming the place in the CDA and no patient data', async () => {
    const r = await runCli(['xds', 'metadata', fixtureCda('regulation.tlm-cr.xml')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('/ClinicalDocument/recordTarget/patientRole/id').and.contain('INS');
    expect(r.stdout).to.equal('');
  });

  it('refuses what is not a CDA header with every missing element (exit 1), and bad usage (exit 2)', async () => {
    const header = file('empty.xml', '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title></ClinicalDocument>');
    const r = await runCli(['xds', 'metadata', header]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('/ClinicalDocument/id/@root').and.contain('/ClinicalDocument/author').and.contain('/ClinicalDocument/component');
    expect((await runCli(['xds', 'metadata'])).code).to.equal(2);
    expect((await runCli(['xds', 'metadata', '--masking', 'everyone', header])).stderr).to.contain('"everyone" is not one of ps, patient, legal');
    expect((await runCli(['xds', 'submit', header])).code).to.equal(2);
    expect((await runCli(['xds', 'metadata', join(dir, 'missing.xml')])).code).to.equal(2);
  });
});
