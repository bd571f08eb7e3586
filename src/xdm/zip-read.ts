/**
 * A ZIP reader for archives from outside (XDM media received by MSSanté), that refuses what could
 * hurt whoever extracts or processes them, rather than a general-purpose unzip:
 *
 * - names: path traversal (`..`), absolute paths (`/x`, `C:\x`), backslashes, control characters,
 *   colons, empty or `.` segments; duplicates, also when they differ only by case or Unicode
 *   normalization (XDM media are FAT or ISO 9660, and macOS stores names decomposed), and a file
 *   that is also another entry's folder;
 * - entries: encrypted ones, symbolic links and other special files (Unix mode, Windows reparse
 *   points), compression methods other than stored and deflate;
 * - zip bombs: the number of entries, the bytes of each entry and of the whole archive, the
 *   compression ratio, and overlapping entries (the construction of D. Fifield, "A better zip bomb",
 *   USENIX WOOT 2019). Declared sizes are never trusted to accept: an entry is inflated by a
 *   streaming inflater in small pieces and stopped as soon as it passes what it declares, and what
 *   it declares must be within the limits. Its CRC-32 is checked too.
 *
 * The central directory is what the archive contains (APPNOTE.TXT 6.3.10 §4.3.6); each local header
 * must agree with it, since readers that walk local headers (streaming unzips) would otherwise see
 * other names than this one. Every problem is collected and thrown at once as an XdmError; entries
 * are inflated only when the archive's structure has none.
 */
import { crc32 } from 'node:zlib';
import { Inflate } from 'fflate';
import { XdmError, type XdmProblem, type XdmProblemCode } from './xdm-error.js';

export interface ZipLimits {
  /** Entries (files and folders) of the central directory. */
  readonly maxEntries: number;
  /** Inflated bytes of all entries together. */
  readonly maxTotalBytes: number;
  /** Inflated bytes of one entry. */
  readonly maxEntryBytes: number;
  /** Inflated bytes per compressed byte of an entry (applied above RATIO_FLOOR_BYTES). */
  readonly maxRatio: number;
}

/**
 * Entries that inflate to less than this are not held to the ratio: a small file of spaces or of
 * repeated markup compresses a thousandfold without harm, and the byte limits bound them anyway.
 */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/**
 * Compressed bytes given to the inflater at a time. Deflate expands at most 1032 to 1 (RFC 1951: a
 * 258-byte match in about two bits), so a stop after each piece overshoots a limit by 17 MB at most,
 * held for that one piece; 4 KiB pieces (4.2 MB) read a 10 MB PDF 2.5 times slower, 64 KiB ones
 * barely faster.
 */
const INFLATE_PIECE_BYTES = 16 * 1024;

// APPNOTE.TXT 6.3.10 §4.3.7, §4.3.12, §4.3.16: record signatures and fixed sizes.
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const CENTRAL_HEADER_BYTES = 46;
const END_SIGNATURE = 0x06054b50;
const END_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
/** §4.3.15: the ZIP64 end of central directory locator, just before the end record. */
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_BYTES = 20;
/** §4.5.3: the ZIP64 extended information extra field of an entry. */
const ZIP64_EXTRA_ID = 0x0001;
const SATURATED_16 = 0xffff;
const SATURATED_32 = 0xffffffff;

/** §4.4.4 general purpose bit flags. */
const FLAG = { ENCRYPTED: 0x0001, STRONG_ENCRYPTION: 0x0040, UTF8_NAME: 0x0800, MASKED_LOCAL_HEADER: 0x2000 } as const;
/** §4.4.5 compression methods; 99 is WinZip AES encryption (APPNOTE appendix E). */
const METHOD = { STORED: 0, DEFLATE: 8, AES: 99 } as const;
/** POSIX st_mode file types, in the high 16 bits of the external attributes (§4.4.15, Info-ZIP). */
const MODE = { TYPE_MASK: 0o170000, REGULAR: 0o100000, DIRECTORY: 0o040000, SYMLINK: 0o120000 } as const;
/** FILE_ATTRIBUTE_REPARSE_POINT (Windows: symbolic links and junctions), in the low 16 bits. */
const WINDOWS_REPARSE_POINT = 0x400;

/** IBM code page 437, bytes 0x80–0xFF: names without the UTF-8 flag are CP437 (§4.4.4 bit 11, appendix D). */
const CP437_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

interface CentralRecord {
  /** 1-based place in the central directory. */
  readonly index: number;
  readonly name: string;
  readonly rawName: Buffer;
  readonly directory: boolean;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
  readonly externalAttributes: number;
}

/** The files of `zip` (folders left out) by name, in the order of the central directory; an XdmError lists every problem. */
export function readZip(zip: Buffer, limits: ZipLimits): Map<string, Buffer> {
  const problems: XdmProblem[] = [];
  const problem = (code: XdmProblemCode, message: string, record?: CentralRecord): void => {
    problems.push({ code, message, ...(record === undefined ? {} : { entry: record.index, name: record.name }) });
  };
  const records = centralDirectory(zip, limits, problem);
  if (problems.length > 0) throw new XdmError(problems);

  for (const record of records) checkRecord(record, limits, problem);
  checkNames(records, problem);
  const dataRanges = records.map((record) => localData(zip, record, problem));
  checkOverlaps(records, dataRanges, problem);
  const declaredTotal = records.reduce((sum, r) => sum + r.size, 0);
  if (declaredTotal > limits.maxTotalBytes) problem('archive-too-large', `the entries declare ${String(declaredTotal)} bytes in all, over the limit of ${String(limits.maxTotalBytes)}`);
  if (problems.length > 0) throw new XdmError(problems);

  const files = new Map<string, Buffer>();
  records.forEach((record, i) => {
    const range = dataRanges[i];
    if (record.directory || range === undefined) return;
    const content = inflateEntry(zip.subarray(range.start, range.end), record, problem);
    if (content !== undefined) files.set(record.name, content);
  });
  if (problems.length > 0) throw new XdmError(problems);
  return files;
}

type Problem = (code: XdmProblemCode, message: string, record?: CentralRecord) => void;

/** The end record (§4.3.16), then every central directory record (§4.3.12). */
function centralDirectory(zip: Buffer, limits: ZipLimits, problem: Problem): CentralRecord[] {
  const end = endRecord(zip);
  if (end === undefined) {
    problem('not-a-zip', 'no end of central directory record: not a ZIP archive, or a truncated one');
    return [];
  }
  const disk = zip.readUInt16LE(end + 4);
  const centralDisk = zip.readUInt16LE(end + 6);
  const entriesOnDisk = zip.readUInt16LE(end + 8);
  const entries = zip.readUInt16LE(end + 10);
  const centralSize = zip.readUInt32LE(end + 12);
  const centralOffset = zip.readUInt32LE(end + 16);
  if (disk !== 0 || centralDisk !== 0 || entriesOnDisk !== entries) {
    problem('unsupported-zip', 'the archive spans several disks');
    return [];
  }
  // A ZIP64 archive saturates these fields; the limits are far below what needs ZIP64 (65,535
  // entries or 4 GiB), so one is refused rather than read (the locator just before says so too).
  const zip64Locator = end >= ZIP64_LOCATOR_BYTES && zip.readUInt32LE(end - ZIP64_LOCATOR_BYTES) === ZIP64_LOCATOR_SIGNATURE;
  if (zip64Locator || entries === SATURATED_16 || centralSize === SATURATED_32 || centralOffset === SATURATED_32) {
    problem('unsupported-zip', 'the archive has a ZIP64 end record, which no archive within the limits needs');
    return [];
  }
  if (entries > limits.maxEntries) {
    problem('too-many-entries', `the archive has ${String(entries)} entries, over the limit of ${String(limits.maxEntries)}`);
    return [];
  }
  if (centralOffset + centralSize > end) {
    problem('not-a-zip', 'the central directory runs past the end record');
    return [];
  }
  const records: CentralRecord[] = [];
  let at = centralOffset;
  for (let index = 1; index <= entries; index += 1) {
    if (at + CENTRAL_HEADER_BYTES > centralOffset + centralSize || zip.readUInt32LE(at) !== CENTRAL_HEADER_SIGNATURE) {
      problem('not-a-zip', `central directory record ${String(index)} of ${String(entries)} is missing or damaged`);
      return [];
    }
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const next = at + CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
    if (next > centralOffset + centralSize) {
      problem('not-a-zip', `central directory record ${String(index)} runs past the central directory`);
      return [];
    }
    const flags = zip.readUInt16LE(at + 8);
    const rawName = zip.subarray(at + CENTRAL_HEADER_BYTES, at + CENTRAL_HEADER_BYTES + nameLength);
    const name = decodeName(rawName, (flags & FLAG.UTF8_NAME) !== 0);
    if (name === undefined) {
      problem('unsafe-name', `the name of entry ${String(index)} is flagged UTF-8 but is not UTF-8`);
      return [];
    }
    const sizes = withZip64Sizes({
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      localOffset: zip.readUInt32LE(at + 42),
    }, zip.subarray(at + CENTRAL_HEADER_BYTES + nameLength, at + CENTRAL_HEADER_BYTES + nameLength + extraLength));
    if (sizes === undefined) {
      problem('not-a-zip', `entry ${String(index)} has saturated sizes without a readable ZIP64 extra field`);
      return [];
    }
    records.push({
      index,
      name,
      rawName,
      directory: name.endsWith('/'),
      flags,
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      ...sizes,
      externalAttributes: zip.readUInt32LE(at + 38),
    });
    at = next;
  }
  // Records the end record does not count would be invisible here and seen by other unzips.
  if (at !== centralOffset + centralSize) problem('not-a-zip', `the central directory holds more than the ${String(entries)} entries the end record counts`);
  return records;
}

/** The last end record whose comment length reaches exactly the end of the archive (§4.3.16). */
function endRecord(zip: Buffer): number | undefined {
  const lowest = Math.max(0, zip.length - END_BYTES - MAX_COMMENT_BYTES);
  for (let at = zip.length - END_BYTES; at >= lowest; at -= 1) {
    if (zip.readUInt32LE(at) === END_SIGNATURE && at + END_BYTES + zip.readUInt16LE(at + 20) === zip.length) return at;
  }
  return undefined;
}

interface Sizes {
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

/** §4.5.3: the saturated 32-bit fields are in the ZIP64 extra field, in this order, as 64-bit values. */
function withZip64Sizes(sizes: Sizes, extra: Buffer): Sizes | undefined {
  const saturated = (['size', 'compressedSize', 'localOffset'] as const).filter((k) => sizes[k] === SATURATED_32);
  if (saturated.length === 0) return sizes;
  for (let at = 0; at + 4 <= extra.length;) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (id === ZIP64_EXTRA_ID && length >= saturated.length * 8 && at + 4 + length <= extra.length) {
      const values: Record<string, number> = {};
      for (const [i, key] of saturated.entries()) {
        const value = extra.readBigUInt64LE(at + 4 + i * 8);
        if (value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
        values[key] = Number(value);
      }
      return { ...sizes, ...values };
    }
    at += 4 + length;
  }
  return undefined;
}

function decodeName(raw: Buffer, utf8: boolean): string | undefined {
  if (utf8) {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      return undefined;
    }
  }
  return Array.from(raw, (byte) => (byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80] ?? '')).join('');
}

/** What an entry is and how it is stored, each against the limits on what it declares. */
function checkRecord(record: CentralRecord, limits: ZipLimits, problem: Problem): void {
  for (const [code, message] of nameProblems(record.name)) problem(code, message, record);
  if ((record.flags & (FLAG.ENCRYPTED | FLAG.STRONG_ENCRYPTION | FLAG.MASKED_LOCAL_HEADER)) !== 0 || record.method === METHOD.AES) {
    problem('encrypted-entry', 'the entry is encrypted: its content cannot be checked', record);
  }
  const type = (record.externalAttributes >>> 16) & MODE.TYPE_MASK;
  if (type === MODE.SYMLINK || (record.externalAttributes & WINDOWS_REPARSE_POINT) !== 0) {
    problem('symlink-entry', 'the entry is a symbolic link: extracted, it would point anywhere', record);
  } else if (type !== 0 && type !== MODE.REGULAR && type !== MODE.DIRECTORY) {
    problem('special-entry', `the entry is a special file (mode ${type.toString(8)}), neither a file nor a folder`, record);
  }
  if (record.method !== METHOD.STORED && record.method !== METHOD.DEFLATE && record.method !== METHOD.AES) {
    problem('unsupported-compression', `the entry is compressed with method ${String(record.method)}; only stored (0) and deflate (8) are read`, record);
  }
  if (record.directory) {
    if (record.size !== 0) problem('corrupt-entry', `the folder entry declares ${String(record.size)} bytes of content`, record);
    return;
  }
  if (record.method === METHOD.STORED && record.compressedSize !== record.size) {
    problem('size-mismatch', `the entry is stored uncompressed in ${String(record.compressedSize)} bytes but declares ${String(record.size)}`, record);
  }
  if (record.size > limits.maxEntryBytes) problem('entry-too-large', `the entry declares ${String(record.size)} bytes, over the limit of ${String(limits.maxEntryBytes)}`, record);
  if (record.size > RATIO_FLOOR_BYTES && record.size > limits.maxRatio * record.compressedSize) {
    problem('compression-ratio', `the entry declares ${String(record.size)} bytes from ${String(record.compressedSize)} compressed, a ratio over the limit of ${String(limits.maxRatio)}`, record);
  }
}

const DRIVE = /^[A-Za-z]:/;

/** Why a name cannot be extracted as it is (APPNOTE §4.4.17.1: a relative path, forward slashes only). */
function nameProblems(name: string): [XdmProblemCode, string][] {
  const problems: [XdmProblemCode, string][] = [];
  const path = name.endsWith('/') ? name.slice(0, -1) : name;
  if (path === '') return [['unsafe-name', 'the entry has an empty name']];
  const absolute = /^[\\/]/.test(path) || DRIVE.test(path);
  if (absolute) problems.push(['absolute-path', 'the name is an absolute path (a leading slash or a drive letter)']);
  const segments = path.replace(DRIVE, '').split(/[\\/]/);
  if (segments.includes('..')) problems.push(['path-traversal', 'the name has a ".." segment: extracted, the entry would climb out of its folder']);
  if (path.includes('\\')) problems.push(['unsafe-name', 'the name has a backslash, which Windows reads as a folder separator']);
  if (Array.from(path).some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f')) problems.push(['unsafe-name', 'the name has control characters']);
  if (path.replace(DRIVE, '').includes(':')) problems.push(['unsafe-name', 'the name has a colon (a drive or an NTFS stream on Windows)']);
  if (segments.slice(absolute ? 1 : 0).some((s) => s === '' || s === '.')) problems.push(['unsafe-name', 'the name has an empty or "." segment']);
  return problems;
}

/** A name as a case-insensitive file system compares it: composed (NFC), upper-cased, without a folder's final slash. */
export function foldedName(name: string): string {
  return (name.endsWith('/') ? name.slice(0, -1) : name).normalize('NFC').toUpperCase();
}

/** Names that would overwrite each other once extracted: equal, equal but for case or normalization, or a file that is another entry's folder. */
function checkNames(records: readonly CentralRecord[], problem: Problem): void {
  const first = new Map<string, CentralRecord>();
  for (const record of records) {
    const key = foldedName(record.name);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, record);
    else if (earlier.name === record.name) problem('duplicate-entry', `the entry has the same name as entry ${String(earlier.index)}`, record);
    else problem('duplicate-entry', `the entry's name differs from entry ${String(earlier.index)}'s only by case or Unicode normalization: on FAT or macOS media one overwrites the other`, record);
  }
  for (const record of records) {
    const segments = foldedName(record.name).split('/');
    for (let n = 1; n < segments.length; n += 1) {
      const folder = first.get(segments.slice(0, n).join('/'));
      if (folder !== undefined && !folder.directory) {
        problem('duplicate-entry', `the entry's folder has the name of entry ${String(folder.index)}, a file`, record);
        break;
      }
    }
  }
}

interface DataRange {
  readonly start: number;
  readonly end: number;
}

/** Where the entry's data is, from its local header (§4.3.7), which must agree with the central record. */
function localData(zip: Buffer, record: CentralRecord, problem: Problem): DataRange | undefined {
  const at = record.localOffset;
  if (at + LOCAL_HEADER_BYTES > zip.length || zip.readUInt32LE(at) !== LOCAL_HEADER_SIGNATURE) {
    problem('not-a-zip', 'the entry\'s local header is missing', record);
    return undefined;
  }
  const nameLength = zip.readUInt16LE(at + 26);
  const extraLength = zip.readUInt16LE(at + 28);
  const start = at + LOCAL_HEADER_BYTES + nameLength + extraLength;
  if (!zip.subarray(at + LOCAL_HEADER_BYTES, at + LOCAL_HEADER_BYTES + nameLength).equals(record.rawName)) {
    problem('header-mismatch', 'the entry\'s local header gives another name than the central directory', record);
  }
  const localFlags = zip.readUInt16LE(at + 6);
  if ((localFlags & FLAG.ENCRYPTED) !== (record.flags & FLAG.ENCRYPTED) || zip.readUInt16LE(at + 8) !== record.method) {
    problem('header-mismatch', 'the entry\'s local header gives another encryption or compression method than the central directory', record);
  }
  const end = start + record.compressedSize;
  if (end > zip.length) {
    problem('not-a-zip', 'the entry\'s data runs past the end of the archive', record);
    return undefined;
  }
  return { start, end };
}

/** No two entries may share bytes (a header or data): that is how one compressed kernel is counted many times. */
function checkOverlaps(records: readonly CentralRecord[], ranges: readonly (DataRange | undefined)[], problem: Problem): void {
  const spans = records.flatMap((record, i) => {
    const range = ranges[i];
    return range === undefined ? [] : [{ record, start: record.localOffset, end: range.end }];
  }).sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i += 1) {
    const previous = spans[i - 1];
    const current = spans[i];
    if (previous !== undefined && current !== undefined && current.start < previous.end) {
      problem('overlapping-entries', `the entry's bytes overlap those of entry ${String(previous.record.index)}`, current.record);
    }
  }
}

/**
 * The entry's content, inflated piece by piece and stopped as soon as it passes the bytes it
 * declares. That one cap enforces every limit on the real bytes: before any inflating, readZip
 * refused an entry whose declared size is over the entry limit or the ratio, and an archive whose
 * declared sizes add up to more than the total limit; no entry can now inflate to more than it declares.
 */
function inflateEntry(data: Buffer, record: CentralRecord, problem: Problem): Buffer | undefined {
  const cap = record.size;
  let content: Buffer;
  if (record.method === METHOD.STORED) {
    content = Buffer.from(data); // a copy: the files outlive the archive's buffer
  } else {
    const pieces: Uint8Array[] = [];
    let produced = 0;
    const inflater = new Inflate((piece) => {
      produced += piece.length;
      if (produced <= cap) pieces.push(piece);
    });
    try {
      if (data.length === 0) inflater.push(new Uint8Array(0), true);
      for (let at = 0; at < data.length && produced <= cap; at += INFLATE_PIECE_BYTES) {
        inflater.push(data.subarray(at, at + INFLATE_PIECE_BYTES), at + INFLATE_PIECE_BYTES >= data.length);
      }
    } catch {
      problem('corrupt-entry', 'the entry\'s compressed data cannot be inflated', record);
      return undefined;
    }
    if (produced > cap) {
      problem('size-mismatch', `the entry inflates to more than the ${String(record.size)} bytes it declares (stopped after ${String(produced)})`, record);
      return undefined;
    }
    content = Buffer.concat(pieces, produced);
  }
  if (content.length !== record.size) {
    problem('size-mismatch', `the entry inflates to ${String(content.length)} bytes but declares ${String(record.size)}`, record);
    return undefined;
  }
  if (crc32(content) !== record.crc) {
    problem('crc-mismatch', 'the entry\'s CRC-32 does not match its content', record);
    return undefined;
  }
  return content;
}
