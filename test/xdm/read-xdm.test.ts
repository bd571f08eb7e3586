import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { buildXdmZip, xdmPackageOfCda } from '../../src/xdm/build-xdm.js';
import { readXdmZip } from '../../src/xdm/read-xdm.js';
import { XdmError, type XdmProblem } from '../../src/xdm/xdm-error.js';
import { requireShared } from '../support/shared.js';

const XDM_SAMPLES = 'ihe/xdm/';
const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
const CDA = readFileSync(fileURLToPath(new URL('../../fixtures/cda/teleconsultation.tlm-cr.xml', import.meta.url)));
const built = buildXdmZip(xdmPackageOfCda(CDA, {
  sourceId: '2.999.1.2',
  contentTypeCode: { code: '07', codingScheme: '1.2.250.1.213.2.2', displayName: 'Consultation Soins Externes' },
  now: new Date('2026-03-27T14:36:12Z'),
}));
const METADATA = 'IHE_XDM/SUBSET01/METADATA.XML';

/** `built` with its METADATA.XML changed by `edit` (and its other files as they are). */
function withMetadata(edit: (xml: string) => string, extra: Zippable = {}): Buffer {
  const files = unzipSync(built);
  const metadata = edit(Buffer.from(files[METADATA] ?? []).toString('utf8'));
  return Buffer.from(zipSync({ ...Object.fromEntries(Object.entries(files).filter(([name]) => !name.endsWith('/'))), [METADATA]: strToU8(metadata), ...extra }));
}

function refusal(zip: Buffer): XdmProblem[] {
  try {
    readXdmZip(zip);
  } catch (error) {
    if (error instanceof XdmError) return [...error.problems];
    throw error;
  }
  throw new Error('the archive was accepted');
}

describe('reading an XDM archive', () => {
  describe('the NIST samples of ../shared/ihe/xdm', () => {
    it('opens every one, finds each document from its URI and finds its hash and size as declared', function () {
      const dir = requireShared(this, XDM_SAMPLES);
      const samples = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.zip'));
      expect(samples).to.have.length.of.at.least(3);
      for (const sample of samples) {
        const archive = readXdmZip(readFileSync(`${dir}${sample}`));
        expect(archive.subsets, sample).to.have.length.of.at.least(1);
        for (const subset of archive.subsets) {
          expect(subset.checks, `${sample} ${subset.path}`).to.have.length.of.at.least(1);
          for (const check of subset.checks) {
            expect(check.problems, `${sample} ${check.entryUUID}`).to.deep.equal([]);
            expect([check.sizeMatches, check.hashMatches], `${sample} ${check.entryUUID}`).to.deep.equal([true, true]);
            const content = archive.files.get(check.file ?? '') ?? new Uint8Array();
            expect(sha1(content)).to.equal(check.declaredHash);
            expect(subset.documents.get(check.entryUUID)?.equals(content)).to.equal(true);
          }
        }
      }
    });

    it('reads a subset named SUBSET among .svn folders and macOS resource forks, its URI DOC.TXT naming doc.txt as FAT media do', function () {
      const archive = readXdmZip(readFileSync(requireShared(this, `${XDM_SAMPLES}nist-xdm.zip`)));
      expect(archive.subsets.map((s) => [s.path, s.metadataFile])).to.deep.equal([['IHE_XDM/SUBSET', 'IHE_XDM/SUBSET/METADATA.xml']]);
      expect([...archive.files.keys()]).to.include.members(['IHE_XDM/SUBSET/.svn/entries', '__MACOSX/IHE_XDM/SUBSET/._METADATA.xml', 'index.htm', 'readme.txt']);
      const [check] = archive.subsets[0]?.checks ?? [];
      expect(check).to.include({ entryUUID: 'Document01', uri: 'DOC.TXT', file: 'IHE_XDM/SUBSET/doc.txt', size: 11, mimeType: 'text/plain', uniqueId: '1.2.3.4.5' });
      expect(archive.subsets[0]?.submission?.documentEntries[0]?.uri).to.equal('DOC.TXT');
      expect(archive.subsets[0]?.metadataProblems).to.deep.equal([]);
    });

    it('reads limited metadata and ebRIM 2.1 metadata for their documents, saying why they are not full XDS metadata', function () {
      const minimal = readXdmZip(readFileSync(requireShared(this, `${XDM_SAMPLES}nist-xdm_minimal.zip`))).subsets[0];
      expect(minimal?.submission).to.equal(undefined);
      expect(minimal?.metadataProblems).to.include('DocumentEntry Document01: no typeCode Classification, expected one');
      expect(minimal?.checks[0]).to.include({ file: 'IHE_XDM/SUBSET/doc.txt', hashMatches: true });
      const ebRim21 = readXdmZip(readFileSync(requireShared(this, `${XDM_SAMPLES}nist-lynn-xdm.zip`))).subsets[0];
      expect(ebRim21?.submission).to.equal(undefined);
      expect(ebRim21?.metadataProblems).to.deep.equal(['SubmitObjectsRequest: no RegistryObjectList']);
      expect(ebRim21?.checks[0]).to.include({ file: 'IHE_XDM/SUBSET01/DOC0001.XML', size: 49645, sizeMatches: true, hashMatches: true });
    });
  });

  describe('documents that differ from their metadata (data, not refusals)', () => {
    it('reports a hash or a size that differs from the file', () => {
      const [sizeSlot, hashSlot] = [/(<rim:Slot name="size">\s*<rim:ValueList>\s*<rim:Value>)\d+/, /(<rim:Slot name="hash">\s*<rim:ValueList>\s*<rim:Value>)[0-9a-f]+/];
      const subset = readXdmZip(withMetadata((xml) => xml.replace(sizeSlot, '$142').replace(hashSlot, `$1${'0'.repeat(40)}`))).subsets[0];
      const [check] = subset?.checks ?? [];
      expect(check).to.include({ sizeMatches: false, hashMatches: false, size: CDA.length, declaredSize: 42, declaredHash: '0'.repeat(40) });
      expect(check?.problems).to.deep.equal([`the file has ${String(CDA.length)} bytes, the size slot says 42`, 'the file\'s SHA-1 differs from the hash slot']);
      expect(subset?.documents.size, 'the document is still given, for the recipient to decide').to.equal(1);
    });

    it('reports a DocumentEntry without URI, with a URI naming no file, or a URI leaving the subset', () => {
      const uriSlot = /<rim:Slot name="URI">\s*<rim:ValueList>\s*<rim:Value>DOC0001\.XML<\/rim:Value>\s*<\/rim:ValueList>\s*<\/rim:Slot>/;
      const problemsOf = (zip: Buffer): readonly string[] => readXdmZip(zip).subsets[0]?.checks[0]?.problems ?? [];
      expect(problemsOf(withMetadata((xml) => xml.replace(uriSlot, '')))).to.deep.equal(['the DocumentEntry has no URI slot: its file is unknown']);
      expect(problemsOf(withMetadata((xml) => xml.replace('>DOC0001.XML<', '>DOC0009.XML<')))).to.deep.equal(['no file of the subset has the name the URI gives']);
      for (const outside of ['../../README.TXT', '/etc/passwd', 'file:///etc/passwd', '..\\..\\README.TXT']) {
        expect(problemsOf(withMetadata((xml) => xml.replace('>DOC0001.XML<', `>${outside}<`))), outside).to.deep.equal(['the URI does not name a file inside the subset\'s folder']);
      }
    });

    it('finds a file from a %-encoded URI, and from the numbered pieces of a long one', () => {
      const files: Zippable = { 'IHE_XDM/SUBSET01/MON DOC.XML': CDA };
      const encoded = readXdmZip(withMetadata((xml) => xml.replace('>DOC0001.XML<', '>MON%20DOC.XML<'), files)).subsets[0]?.checks[0];
      expect(encoded).to.include({ file: 'IHE_XDM/SUBSET01/MON DOC.XML', hashMatches: true });
      const pieces = readXdmZip(withMetadata((xml) => xml.replace('<rim:Value>DOC0001.XML</rim:Value>', '<rim:Value>2|01.XML</rim:Value><rim:Value>1|DOC00</rim:Value>'))).subsets[0];
      expect(pieces?.checks[0]).to.include({ uri: 'DOC0001.XML', file: 'IHE_XDM/SUBSET01/DOC0001.XML', hashMatches: true });
      expect(pieces?.submission?.documentEntries[0]?.uri).to.equal('DOC0001.XML');
    });
  });

  describe('archives that are not XDM media', () => {
    it('refuses an archive without IHE_XDM/<subset>/METADATA.XML', () => {
      expect(refusal(Buffer.from(zipSync({ 'README.TXT': strToU8('x'), 'IHE_XDM/SUBSET01/DOC0001.XML': CDA, 'METADATA.XML': strToU8('<x/>') })))).to.deep.equal([
        { code: 'no-metadata', message: 'the archive has no IHE_XDM/<subset>/METADATA.XML: it is not XDM media' },
      ]);
    });

    it('refuses a METADATA.XML that is not a SubmitObjectsRequest, or declares entities', () => {
      expect(refusal(withMetadata(() => '<html><body>no metadata</body></html>')).map((p) => p.code)).to.deep.equal(['metadata-unreadable']);
      const entities = refusal(withMetadata((xml) => xml.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>')));
      expect(entities).to.deep.equal([{ code: 'metadata-unreadable', name: METADATA, message: 'a METADATA.XML cannot be read: the XML has a DOCTYPE, which is refused (entity declarations are not accepted)' }]);
    });

    it('refuses nonsensical limits', () => {
      expect(() => readXdmZip(built, { maxEntries: 0 })).to.throw(RangeError, 'maxEntries');
      expect(() => readXdmZip(built, { maxRatio: Number.NaN })).to.throw(RangeError, 'maxRatio');
    });
  });
});
