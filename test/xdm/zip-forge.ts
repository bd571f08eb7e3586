/**
 * Hostile ZIP archives for the reader's refusal tests. fflate writes the well-formed ones (its
 * attributes give symbolic links); what no honest writer produces — names fflate would not take
 * twice, lying sizes, encryption flags, local headers that disagree, overlapping entries — is laid
 * out here byte by byte after APPNOTE.TXT 6.3.10 §4.3, the data deflated by fflate.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { deflateSync } from 'fflate';

export interface ForgedEntry {
  readonly name: string;
  readonly data?: Buffer;
  /** Compression method (§4.4.5); 8 (deflate) by default. */
  readonly method?: number;
  /** The compressed bytes as written, instead of `data` deflated. */
  readonly compressed?: Buffer;
  /** Declared uncompressed size; the data's by default. */
  readonly size?: number;
  readonly crc?: number;
  /** General purpose bit flags (§4.4.4); bit 11 (UTF-8 names) is set for non-ASCII names. */
  readonly flags?: number;
  readonly externalAttributes?: number;
  /** Version made by (§4.4.2): host in the high byte (3: Unix). */
  readonly madeBy?: number;
  /** A name for the local header other than the central directory's. */
  readonly localName?: string;
}

const UTF8_FLAG = 0x0800;

interface Laid {
  readonly entry: ForgedEntry;
  readonly offset: number;
  readonly compressed: Buffer;
  readonly size: number;
  readonly crc: number;
  readonly flags: number;
}

export function forgeZip(entries: readonly ForgedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const laid: Laid[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    const method = entry.method ?? 8;
    const compressed = entry.compressed ?? (method === 8 ? Buffer.from(deflateSync(data)) : data);
    const flags = (entry.flags ?? 0) | (/^[\x20-\x7e]*$/.test(entry.name) ? 0 : UTF8_FLAG);
    const item = { entry, offset, compressed, size: entry.size ?? data.length, crc: entry.crc ?? crc32(data), flags };
    const local = localHeader(item, entry.localName ?? entry.name);
    locals.push(local, compressed);
    laid.push(item);
    offset += local.length + compressed.length;
  }
  const central = Buffer.concat(laid.map(centralHeader));
  return Buffer.concat([...locals, central, endRecord(laid.length, central.length, offset)]);
}

function localHeader(item: Laid, name: string): Buffer {
  const rawName = Buffer.from(name, 'utf8');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(item.flags, 6);
  header.writeUInt16LE(item.entry.method ?? 8, 8);
  header.writeUInt16LE(0, 10); // time
  header.writeUInt16LE(0x5c21, 12); // 2026-01-01
  header.writeUInt32LE(item.crc, 14);
  header.writeUInt32LE(item.compressed.length, 18);
  header.writeUInt32LE(item.size, 22);
  header.writeUInt16LE(rawName.length, 26);
  header.writeUInt16LE(0, 28);
  return Buffer.concat([header, rawName]);
}

function centralHeader(item: Laid): Buffer {
  const rawName = Buffer.from(item.entry.name, 'utf8');
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(item.entry.madeBy ?? 20, 4);
  header.writeUInt16LE(20, 6);
  header.writeUInt16LE(item.flags, 8);
  header.writeUInt16LE(item.entry.method ?? 8, 10);
  header.writeUInt16LE(0, 12);
  header.writeUInt16LE(0x5c21, 14);
  header.writeUInt32LE(item.crc, 16);
  header.writeUInt32LE(item.compressed.length, 20);
  header.writeUInt32LE(item.size, 24);
  header.writeUInt16LE(rawName.length, 28);
  header.writeUInt32LE(item.entry.externalAttributes ?? 0, 38);
  header.writeUInt32LE(item.offset, 42);
  return Buffer.concat([header, rawName]);
}

function endRecord(entries: number, centralSize: number, centralOffset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return end;
}

/**
 * Two entries sharing their bytes (Fifield's overlap): entry A, stored, whose data is entry B's
 * local header and data, and entry B pointing into it. Each local header agrees with its central
 * record; only the overlap is wrong.
 */
export function overlappingZip(): Buffer {
  const b = forgeZip([{ name: 'IHE_XDM/SUBSET01/B.XML', data: Buffer.from('<b/>') }]);
  const bLocalLength = b.readUInt32LE(b.length - 22 + 16); // B's local header and data end where its central directory starts
  const bLocal = b.subarray(0, bLocalLength);
  const aName = 'IHE_XDM/SUBSET01/A.XML';
  const a = forgeZip([{ name: aName, data: bLocal, method: 0 }]);
  const aCentral = a.subarray(30 + aName.length + bLocal.length, a.length - 22);
  const bCentral = Buffer.from(b.subarray(bLocalLength, b.length - 22));
  bCentral.writeUInt32LE(30 + aName.length, 42);
  const localPart = a.subarray(0, 30 + aName.length + bLocal.length);
  const central = Buffer.concat([aCentral, bCentral]);
  return Buffer.concat([localPart, central, endRecord(2, central.length, localPart.length)]);
}

const MiB = 1024 * 1024;

/**
 * A raw deflate stream of `mebibytes` MiB of zeros in about 1 KiB per MiB: one MiB deflated with a
 * full flush (byte-aligned, no reference before it, RFC 1951 §3.2.3), repeated, then an empty final
 * fixed-Huffman block (bits 1, 01, end-of-block: bytes 03 00).
 */
export function zerosDeflated(mebibytes: number): Buffer {
  const chunk = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_FULL_FLUSH, level: 9 });
  return Buffer.concat([...Array.from({ length: mebibytes }, () => chunk), Buffer.from([0x03, 0x00])]);
}
