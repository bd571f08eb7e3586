import { createInflateRaw } from 'node:zlib';
import { expect } from 'chai';
import fc from 'fast-check';
import { Zip, ZipPassThrough, strToU8, zipSync } from 'fflate';
import { DEFAULT_XDM_LIMITS, readXdmZip, type XdmLimits } from '../../src/xdm/read-xdm.js';
import { XdmError, type XdmProblem } from '../../src/xdm/xdm-error.js';
import { readZip } from '../../src/xdm/zip-read.js';
import { forgeZip, overlappingZip, zerosDeflated, type ForgedEntry } from './zip-forge.js';

const MiB = 1024 * 1024;
const METADATA = { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from('<x/>') };

function refusal(zip: Buffer | Uint8Array, limits: Partial<XdmLimits> = {}): XdmProblem[] {
  try {
    readXdmZip(Buffer.from(zip), limits);
  } catch (error) {
    if (error instanceof XdmError) return [...error.problems];
    throw error;
  }
  throw new Error('the archive was accepted');
}

const codes = (problems: readonly XdmProblem[]): string[] => problems.map((p) => p.code);
const forged = (...entries: ForgedEntry[]): Buffer => forgeZip([METADATA, ...entries]);

describe('reading a hostile ZIP archive', () => {
  describe('names', () => {
    it('refuses path traversal, with slashes or backslashes', () => {
      const problems = refusal(forged({ name: '../evil.txt', data: Buffer.from('x') }, { name: 'IHE_XDM/SUBSET01/../../../etc/cron.d/x', data: Buffer.from('x') }, { name: '..\\..\\evil.bat', data: Buffer.from('x') }));
      expect(problems.filter((p) => p.code === 'path-traversal').map((p) => p.entry)).to.deep.equal([2, 3, 4]);
      expect(problems.find((p) => p.entry === 4 && p.code === 'unsafe-name')?.message).to.contain('backslash');
    });

    it('refuses absolute paths: a leading slash, a drive letter with either separator', () => {
      const problems = refusal(forged({ name: '/etc/passwd', data: Buffer.from('x') }, { name: 'C:\\Windows\\win.ini', data: Buffer.from('x') }, { name: 'c:/x.txt', data: Buffer.from('x') }));
      expect(problems.filter((p) => p.code === 'absolute-path').map((p) => p.entry)).to.deep.equal([2, 3, 4]);
    });

    it('refuses names no file system stores as written: control characters, colons, empty and "." segments', () => {
      const problems = refusal(forged({ name: 'a\u0007b.txt', data: Buffer.from('x') }, { name: 'doc.xml:stream', data: Buffer.from('x') }, { name: 'IHE_XDM//x.txt', data: Buffer.from('x') }, { name: './x.txt', data: Buffer.from('x') }));
      expect(problems.map((p) => [p.entry, p.code])).to.deep.equal([[2, 'unsafe-name'], [3, 'unsafe-name'], [4, 'unsafe-name'], [5, 'unsafe-name']]);
    });

    it('refuses duplicate entries, written by fflate\'s streaming Zip', () => {
      const chunks: Uint8Array[] = [];
      const zip = new Zip((error, chunk) => { if (error === null) chunks.push(chunk); });
      for (const name of ['IHE_XDM/SUBSET01/METADATA.XML', 'IHE_XDM/SUBSET01/DOC0001.XML', 'IHE_XDM/SUBSET01/DOC0001.XML']) {
        const file = new ZipPassThrough(name);
        zip.add(file);
        file.push(strToU8('<x/>'), true);
      }
      zip.end();
      const problems = refusal(Buffer.concat(chunks));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include({ code: 'duplicate-entry', entry: 3 });
      expect(problems[0]?.message).to.contain('entry 2');
    });

    it('refuses names that differ only by case or Unicode normalization, which FAT and macOS media fold together', () => {
      const problems = refusal(forged({ name: 'IHE_XDM/SUBSET01/DOC.XML', data: Buffer.from('a') }, { name: 'ihe_xdm/subset01/doc.xml', data: Buffer.from('b') }, { name: 'r\u00e9sum\u00e9.txt', data: Buffer.from('c') }, { name: 're\u0301sume\u0301.txt', data: Buffer.from('d') }));
      expect(problems.map((p) => [p.entry, p.code])).to.deep.equal([[3, 'duplicate-entry'], [5, 'duplicate-entry']]);
      expect(problems[0]?.message).to.contain('only by case or Unicode normalization');
    });

    it('refuses a file that is also the folder of another entry', () => {
      const problems = refusal(forged({ name: 'IHE_XDM/SUBSET01/DOCS', data: Buffer.from('a') }, { name: 'IHE_XDM/SUBSET01/docs/DOC.XML', data: Buffer.from('b') }));
      expect(problems).to.deep.include({ code: 'duplicate-entry', entry: 3, name: 'IHE_XDM/SUBSET01/docs/DOC.XML', message: 'the entry\'s folder has the name of entry 2, a file' });
    });

    it('keeps entry names out of messages: they are the sender\'s text', () => {
      const problems = refusal(forged({ name: 'DUPONT_Marie_1980/../../x', data: Buffer.from('x') }));
      expect(problems.map((p) => p.name)).to.include('DUPONT_Marie_1980/../../x');
      for (const p of problems) expect(p.message).not.to.contain('DUPONT');
      expect(() => readXdmZip(forged({ name: 'DUPONT_Marie_1980/../../x', data: Buffer.from('x') }))).to.throw(XdmError).that.satisfies((e: XdmError) => !e.message.includes('DUPONT'));
    });

    it('accepts only relative, distinct, forward-slash names, whatever names an archive is made of', () => {
      const segment = fc.constantFrom('..', '.', '', 'a', 'A', 'DOC.XML', 'doc.xml', 'C:', '\\', 'x\\..', 'é', 'e\u0301');
      fc.assert(fc.property(fc.array(fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')), { minLength: 1, maxLength: 5 }), (names) => {
        let files: Map<string, Buffer>;
        try {
          files = readZip(forgeZip(names.map((name) => ({ name, data: Buffer.from(name) }))), DEFAULT_XDM_LIMITS);
        } catch (error) {
          if (error instanceof XdmError) return;
          throw error;
        }
        const seen = new Set<string>();
        for (const name of files.keys()) {
          expect(name).not.to.match(/^\/|^[A-Za-z]:|\\|(^|\/)\.\.?(\/|$)|\/\//);
          const key = name.normalize('NFC').toUpperCase();
          expect(seen.has(key), name).to.equal(false);
          seen.add(key);
        }
      }), { numRuns: 300 });
    });
  });

  describe('entries', () => {
    it('refuses encrypted entries: the PKWARE flag, strong encryption, AES (method 99)', () => {
      const problems = refusal(forged({ name: 'a.xml', data: Buffer.from('x'), flags: 0x1 }, { name: 'b.xml', data: Buffer.from('x'), flags: 0x40 }, { name: 'c.xml', data: Buffer.from('x'), method: 99, compressed: Buffer.from('x') }));
      expect(problems.filter((p) => p.code === 'encrypted-entry').map((p) => p.entry)).to.deep.equal([2, 3, 4]);
    });

    it('refuses symbolic links, written by fflate with a Unix mode, and Windows reparse points', () => {
      const zip = zipSync({
        'IHE_XDM/SUBSET01/METADATA.XML': strToU8('<x/>'),
        'IHE_XDM/SUBSET01/DOC0001.XML': [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }],
      });
      expect(codes(refusal(zip))).to.deep.equal(['symlink-entry']);
      expect(codes(refusal(forged({ name: 'link', data: Buffer.from('x'), externalAttributes: 0x400 })))).to.deep.equal(['symlink-entry']);
      expect(codes(refusal(forged({ name: 'fifo', data: Buffer.from(''), externalAttributes: (0o010644 << 16) >>> 0, madeBy: 0x031e })))).to.deep.equal(['special-entry']);
    });

    it('refuses compression methods other than stored and deflate', () => {
      expect(refusal(forged({ name: 'a.xml', data: Buffer.from('x'), method: 12, compressed: Buffer.from('BZh9') }))).to.deep.include({ code: 'unsupported-compression', entry: 2, name: 'a.xml', message: 'the entry is compressed with method 12; only stored (0) and deflate (8) are read' });
    });

    it('refuses an entry whose real size differs from the declared one, larger or smaller, and a wrong CRC', () => {
      const data = Buffer.from('<ClinicalDocument/>'.repeat(100));
      expect(refusal(forged({ name: 'small.xml', data, size: 100 }))).to.deep.include({ code: 'size-mismatch', entry: 2, name: 'small.xml', message: 'the entry inflates to more than the 100 bytes it declares (stopped after 1900)' });
      expect(refusal(forged({ name: 'large.xml', data, size: 5000 }))[0]).to.include({ code: 'size-mismatch', message: 'the entry inflates to 1900 bytes but declares 5000' });
      expect(codes(refusal(forged({ name: 'stored.xml', data, method: 0, size: 10 })))).to.deep.equal(['size-mismatch']);
      expect(codes(refusal(forged({ name: 'crc.xml', data, crc: 0xdeadbeef })))).to.deep.equal(['crc-mismatch']);
    });

    it('refuses data that does not inflate, and a local header that disagrees with the central directory', () => {
      expect(codes(refusal(forged({ name: 'bad.xml', data: Buffer.from('x'), compressed: Buffer.from([0xff, 0xff, 0xff]) })))).to.deep.equal(['corrupt-entry']);
      expect(refusal(forged({ name: 'IHE_XDM/SUBSET01/DOC0001.XML', localName: '../../evil.sh', data: Buffer.from('x') }))).to.deep.equal([
        { code: 'header-mismatch', entry: 2, name: 'IHE_XDM/SUBSET01/DOC0001.XML', message: 'the entry\'s local header gives another name than the central directory' },
      ]);
    });

    it('refuses what is not a ZIP archive, or a truncated one', () => {
      expect(codes(refusal(Buffer.from('PK\u0003\u0004 not really')))).to.deep.equal(['not-a-zip']);
      const zip = forged({ name: 'a.xml', data: Buffer.from('x') });
      expect(codes(refusal(zip.subarray(0, zip.length - 30)))).to.deep.equal(['not-a-zip']);
      expect(codes(refusal(Buffer.alloc(0)))).to.deep.equal(['not-a-zip']);
    });

    it('refuses entries the end record does not count, which other unzips would see, and ZIP64 or multi-disk archives', () => {
      const patched = (offset: number, value: number, bytes: 2 | 4 = 2): Buffer => {
        const zip = Buffer.from(forged({ name: 'hidden.sh', data: Buffer.from('x') }));
        zip.writeUIntLE(value, zip.length - 22 + offset, bytes);
        if (offset === 10) zip.writeUInt16LE(value, zip.length - 22 + 8);
        return zip;
      };
      expect(refusal(patched(10, 1))).to.deep.equal([{ code: 'not-a-zip', message: 'the central directory holds more than the 1 entries the end record counts' }]);
      expect(codes(refusal(patched(10, 0xffff)))).to.deep.equal(['unsupported-zip']);
      expect(codes(refusal(patched(4, 1)))).to.deep.equal(['unsupported-zip']);
    });
  });

  describe('zip bombs', () => {
    const GiB = 1024;
    let bomb: Buffer;
    before(() => { bomb = zerosDeflated(GiB); });

    it('is given a real one: about 1 MB that inflates to 1 GiB of zeros', async function () {
      this.timeout(60_000);
      let inflated = 0;
      await new Promise<void>((resolve, reject) => {
        const inflater = createInflateRaw();
        inflater.on('data', (chunk: Buffer) => { inflated += chunk.length; });
        inflater.on('end', resolve);
        inflater.on('error', reject);
        inflater.end(bomb);
      });
      expect(inflated).to.equal(1024 * MiB);
      expect(bomb.length).to.be.below(1.1 * MiB);
    });

    it('refuses 1 GiB of zeros that says so, before inflating anything: over the entry limit and the ratio', () => {
      const started = process.hrtime.bigint();
      const problems = refusal(forged({ name: 'IHE_XDM/SUBSET01/DOC0001.XML', compressed: bomb, size: 1024 * MiB, crc: 0 }));
      expect(codes(problems)).to.deep.equal(['entry-too-large', 'compression-ratio', 'archive-too-large']);
      expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.below(1000);
    });

    it('stops inflating 1 GiB of zeros that declares 1 KiB as soon as it passes 1 KiB, never trusting the declared size', () => {
      const started = process.hrtime.bigint();
      const problems = refusal(forged({ name: 'IHE_XDM/SUBSET01/DOC0001.XML', compressed: bomb, size: 1024, crc: 0 }));
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      expect(codes(problems)).to.deep.equal(['size-mismatch']);
      const stoppedAfter = Number(/stopped after (\d+)/.exec(problems[0]?.message ?? '')?.[1]);
      expect(stoppedAfter).to.be.above(1024).and.below(17 * MiB); // one piece of 16 KiB inflates to 17 MB at most
      expect(elapsedMs).to.be.below(1000);
    });

    it('holds each entry, and the archive, to the limits given', () => {
      const threeMiB = zerosDeflated(3);
      const entry = (name: string): ForgedEntry => ({ name, compressed: threeMiB, size: 3 * MiB, crc: 0 });
      expect(codes(refusal(forged(entry('a')), { maxEntryBytes: 2 * MiB, maxRatio: 10_000 }))).to.deep.equal(['entry-too-large']);
      expect(codes(refusal(forged(entry('a'), entry('b')), { maxTotalBytes: 5 * MiB, maxRatio: 10_000 }))).to.deep.equal(['archive-too-large']);
      expect(codes(refusal(forged(entry('a'))))).to.deep.equal(['compression-ratio']);
      expect(codes(refusal(forged(entry('a'), entry('b'), entry('c')), { maxEntries: 3 }))).to.deep.equal(['too-many-entries']);
    });

    it('refuses entries that share their bytes (overlapping entries, the non-recursive zip bomb)', () => {
      const zip = overlappingZip();
      const problems = refusal(zip);
      expect(problems.map((p) => [p.entry, p.code])).to.deep.equal([[2, 'overlapping-entries']]);
    });

    it('lists every problem of an archive at once', () => {
      const problems = refusal(forged({ name: '../a', data: Buffer.from('x') }, { name: '/b', data: Buffer.from('x') }, { name: 'c', data: Buffer.from('x'), flags: 1 }, { name: 'C', data: Buffer.from('x') }, { name: 'd', compressed: bomb, size: 1024 * MiB, crc: 0 }));
      expect([...new Set(codes(problems))]).to.have.members(['path-traversal', 'absolute-path', 'encrypted-entry', 'duplicate-entry', 'entry-too-large', 'compression-ratio', 'archive-too-large']);
    });
  });
});
