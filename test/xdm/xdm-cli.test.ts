import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { parseSubmitObjectsRequest } from '../../src/xds/ebrim.js';
import { runCli } from '../support/cli.js';
import { requireShared } from '../support/shared.js';
import { forgeZip } from './zip-forge.js';

const fixtureCda = (name: string): string => fileURLToPath(new URL(`../../fixtures/cda/${name}`, import.meta.url));
const METADATA = 'IHE_XDM/SUBSET01/METADATA.XML';

describe('passerelle xdm', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'passerelle-xdm-cli-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });
  const path = (name: string): string => join(dir, name);

  it('builds the archive of a CDA and its PDF, with the sender of the configuration, and reads it back (exit 0)', async () => {
    const cda = readFileSync(fixtureCda('teleconsultation.tlm-cr.xml'));
    const pdf = Buffer.from(/mediaType="application\/pdf"[^>]*>([^<]*)</.exec(cda.toString('utf8'))?.[1]?.replace(/\s+/g, '') ?? '', 'base64');
    writeFileSync(path('copy.pdf'), pdf);
    writeFileSync(path('config.json'), JSON.stringify({ dmp: { sourceId: '1.2.250.1.999.42', contentTypeCode: { code: '04', codeSystem: '1.2.250.1.213.2.2', displayName: 'Hospitalisation de Jour' } } }));
    const built = await runCli(['xdm', 'build', '--pdf', path('copy.pdf'), '--config', path('config.json'), '-o', path('IHE_XDM.ZIP'), fixtureCda('teleconsultation.tlm-cr.xml')]);
    expect(built.code, built.stderr).to.equal(0);
    expect(built.stderr).to.contain('2 document(s) (DOC0001.XML, DOC0002.PDF)').and.contain('IHE_XDM.ZIP');
    const files = unzipSync(readFileSync(path('IHE_XDM.ZIP')));
    const request = parseSubmitObjectsRequest(Buffer.from(files[METADATA] ?? []).toString('utf8'));
    expect(request.submissionSet.sourceId).to.equal('1.2.250.1.999.42');
    expect(request.submissionSet.contentTypeCode.code).to.equal('04');
    expect(request.documentEntries.map((e) => [e.uri, e.repositoryUniqueId])).to.deep.equal([['DOC0001.XML', undefined], ['DOC0002.PDF', undefined]]);
    expect(Buffer.from(files['README.TXT'] ?? []).toString('utf8')).to.contain('Application : Passerelle 0.1.0');

    const read = await runCli(['xdm', 'read', path('IHE_XDM.ZIP')]);
    expect(read.code, read.stderr).to.equal(0);
    expect(read.stdout).to.contain('IHE_XDM/SUBSET01: XDS metadata').and.contain(`IHE_XDM/SUBSET01/DOC0001.XML  text/xml  ${String(cda.length)} bytes  size and hash as declared`);
    expect(read.stdout).to.contain(`IHE_XDM/SUBSET01/DOC0002.PDF  application/pdf  ${String(pdf.length)} bytes  size and hash as declared`);
    expect(read.stdout, 'no patient data').not.to.contain('279035121518989').and.not.to.contain('PAT-TROIS');
  });

  it('reads the NIST samples, limited metadata included', async function () {
    const sample = requireShared(this, 'ihe/xdm/nist-xdm_minimal.zip');
    const r = await runCli(['xdm', 'read', sample]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('IHE_XDM/SUBSET: limited metadata').and.contain('IHE_XDM/SUBSET/doc.txt  text/plain  11 bytes  size and hash as declared');
  });

  it('lists every reason an archive is refused, quoting entry names (exit 1)', async () => {
    writeFileSync(path('hostile.zip'), forgeZip([{ name: '../../.bashrc', data: Buffer.from('x') }, { name: 'x\u001b[2Jy', data: Buffer.from('x') }]));
    const r = await runCli(['xdm', 'read', path('hostile.zip')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('is refused (2 problem(s))').and.contain('entry 1 "../../.bashrc": the name has a ".." segment').and.contain('[path-traversal]');
    expect(r.stderr).to.contain('entry 2 "x\\u001b[2Jy": the name has control characters').and.not.contain('\u001b');
  });

  it('says which document differs from its metadata (exit 1)', async () => {
    const cda = readFileSync(fixtureCda('teleconsultation.tlm-cr.xml'));
    writeFileSync(path('report.pdf'), Buffer.from(/mediaType="application\/pdf"[^>]*>([^<]*)</.exec(cda.toString('utf8'))?.[1]?.replace(/\s+/g, '') ?? '', 'base64'));
    expect((await runCli(['xdm', 'build', '--pdf', path('report.pdf'), '-o', path('to-tamper.zip'), fixtureCda('teleconsultation.tlm-cr.xml')])).code).to.equal(0);
    const files = unzipSync(readFileSync(path('to-tamper.zip')));
    files['IHE_XDM/SUBSET01/DOC0002.PDF'] = strToU8('%PDF-1.4 another');
    writeFileSync(path('tampered.zip'), zipSync(files));
    const r = await runCli(['xdm', 'read', path('tampered.zip')]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/DOC0002\.PDF {2}application\/pdf {2}16 bytes {2}the file has 16 bytes, the size slot says \d+; the file's SHA-1 differs from the hash slot/);
  });

  it('refuses a CDA its metadata cannot be mapped from (exit 1), and bad usage (exit 2)', async () => {
    const unmappable = await runCli(['xdm', 'build', '-o', path('none.zip'), fixtureCda('regulation.tlm-cr.xml')]);
    expect(unmappable.code).to.equal(1);
    expect(unmappable.stderr).to.contain('/ClinicalDocument/recordTarget/patientRole/id');
    expect((await runCli(['xdm', 'build', fixtureCda('teleconsultation.tlm-cr.xml')])).stderr).to.contain('give the archive to write with -o FILE');
    expect((await runCli(['xdm', 'read'])).code).to.equal(2);
    expect((await runCli(['xdm', 'send'])).code).to.equal(2);
    expect((await runCli(['xdm', 'read', path('missing.zip')])).code).to.equal(2);
    expect((await runCli(['xdm', 'build', '--pdf', path('missing.pdf'), '-o', path('x.zip'), fixtureCda('teleconsultation.tlm-cr.xml')])).code).to.equal(2);
  });
});
