import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli as run } from '../support/cli.js';
import { KIT_DIR, requireShared } from '../support/shared.js';

describe('passerelle validate', function () {
  this.timeout(120_000);
  let dir: string;
  before(function () {
    requireShared(this, 'ans-cisis/examples');
    dir = mkdtempSync(join(tmpdir(), 'passerelle-validate-'));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  const example = (): Buffer => readFileSync(`${KIT_DIR}examples/TLM-CR_2022.01.xml`);

  it('exits 0 on a directory of valid documents, checked with XSD, StrucMin and their volet', async () => {
    const r = await run(['validate', '--kit', KIT_DIR, '--format', 'json', `${KIT_DIR}examples`]);
    expect(r.code, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as { files: { file: string; valid: boolean; volet?: string }[] };
    expect(report.files).to.have.length(8);
    expect(report.files.every((f) => f.valid)).to.equal(true);
    expect(report.files.find((f) => f.file.endsWith('TLM-DA_2022.01_TCG.xml'))?.volet).to.equal('TLM-DA_2022.01');
  });

  it('exits 1 on an invalid document and lists each issue with its source, rule, line and location', async () => {
    const r = await run(['validate', '--kit', KIT_DIR, '--format', 'json', `${KIT_DIR}mutants/TLM-CR-02-no-legal-authenticator.xml`]);
    expect(r.code).to.equal(1);
    const issues = (JSON.parse(r.stdout) as { files: { issues: { source: string; severity: string; line?: number; schematron?: string; location?: string }[] }[] }).files[0]?.issues ?? [];
    expect(issues.some((i) => i.source === 'xsd' && i.severity === 'error' && i.line === 259)).to.equal(true);
    expect(issues.some((i) => i.source === 'schematron' && i.schematron === 'profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch' && i.location?.startsWith('/ClinicalDocument[1]'))).to.equal(true);
  });

  it('writes text lines "file:line:col severity source rule message", JUnit and SARIF', async () => {
    const file = `${KIT_DIR}mutants/TLM-CR-16-unknown-element.xml`;
    const text = await run(['validate', '--kit', KIT_DIR, file]);
    expect(text.stdout).to.match(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:57:0 error xsd XSD `, 'm'));
    const junit = await run(['validate', '--kit', KIT_DIR, '--format', 'junit', file]);
    expect(junit.stdout).to.contain('<testsuite name="passerelle validate" tests="1" failures="1">');
    const sarif = JSON.parse((await run(['validate', '--kit', KIT_DIR, '--format', 'sarif', file])).stdout) as { version: string; runs: { results: { level: string; locations: { physicalLocation: { region?: { startLine: number } } }[] }[] }[] };
    expect(sarif.version).to.equal('2.1.0');
    expect(sarif.runs[0]?.results.some((x) => x.level === 'error' && x.locations[0]?.physicalLocation.region?.startLine === 57)).to.equal(true);
  });

  it('names the cause of input that is not a readable XML document, exit 2', async () => {
    const cases: [string, Buffer, string][] = [
      ['error-page.xml', Buffer.from('<!DOCTYPE html><html><body>502 Bad Gateway</body></html>'), 'INPUT_HTML'],
      ['report.xml', Buffer.from('%PDF-1.4\n...'), 'INPUT_PDF'],
      ['truncated.xml', example().subarray(0, 5000), 'INPUT_TRUNCATED'],
      ['latin1.xml', Buffer.from('<?xml version="1.0"?><a>\xe9</a>', 'latin1'), 'INPUT_NOT_UTF8'],
      ['entities.xml', Buffer.from('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'), 'INPUT_DOCTYPE'],
      ['empty.xml', Buffer.alloc(0), 'INPUT_EMPTY'],
      ['json.xml', Buffer.from('{"resourceType": "Bundle"}'), 'INPUT_NOT_XML'],
    ];
    for (const [name, bytes, rule] of cases) {
      writeFileSync(join(dir, name), bytes);
      const r = await run(['validate', '--kit', KIT_DIR, '--format', 'json', join(dir, name)]);
      expect(r.code, name).to.equal(2);
      const issue = (JSON.parse(r.stdout) as { files: { issues: { rule: string; message: string; hint?: string }[] }[] }).files[0]?.issues.at(-1);
      expect(issue?.rule, name).to.equal(rule);
      expect(issue?.hint, name).to.be.a('string');
    }
  });

  it('accepts a UTF-8 byte-order mark with a warning', async () => {
    writeFileSync(join(dir, 'bom.xml'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), example()]));
    const r = await run(['validate', '--kit', KIT_DIR, '--format', 'json', join(dir, 'bom.xml')]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('INPUT_BOM');
  });

  it('refuses files over the size limit before parsing them', async () => {
    copyFileSync(`${KIT_DIR}examples/TLM-CR_2022.01.xml`, join(dir, 'big.xml'));
    const r = await run(['validate', '--kit', KIT_DIR, '--max-bytes', '1000', '--format', 'json', join(dir, 'big.xml')]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.contain('INPUT_TOO_LARGE');
  });

  it('gives the same reports on worker threads as in one thread, in the order of the files', async () => {
    const one = await run(['validate', '--kit', KIT_DIR, '--format', 'json', '--jobs', '1', `${KIT_DIR}examples`, `${KIT_DIR}mutants`]);
    const two = await run(['validate', '--kit', KIT_DIR, '--format', 'json', '--jobs', '2', `${KIT_DIR}examples`, `${KIT_DIR}mutants`]);
    expect(two.code).to.equal(1);
    expect(two.stdout).to.equal(one.stdout);
    expect((JSON.parse(two.stdout) as { files: unknown[] }).files).to.have.length(36);
  });

  it('exits 2 with a clear message when the kit is not a kit, or a volet is unknown', async () => {
    const notKit = await run(['validate', '--kit', dir, `${KIT_DIR}examples/TLM-CR_2022.01.xml`]);
    expect(notKit.code).to.equal(2);
    expect(notKit.stderr).to.contain('is not an ANS CI-SIS kit');
    for (const jobs of ['1', '2']) {
      const volet = await run(['validate', '--kit', KIT_DIR, '--jobs', jobs, '--volet', 'NOPE_2099', `${KIT_DIR}examples/TLM-CR_2022.01.xml`, `${KIT_DIR}examples/TLM-DA_2022.01_TCG.xml`]);
      expect(volet.code, `--jobs ${jobs}`).to.equal(2);
      expect(volet.stderr).to.contain('volets available').and.contain('TLM-CR_2022.01');
    }
  });
});
