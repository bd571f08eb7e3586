/**
 * Reading an XDM archive (IHE ITI-32 media as a ZIP file: the IHE_XDM.ZIP of an MSSanté message,
 * french-specs §4) received from outside. The ZIP is read by zip-read.ts, which refuses what is
 * unsafe; the subsets are the folders IHE_XDM/<name>/ that hold a METADATA.XML (SUBSET01 by
 * convention, SUBSET or others in the wild; names matched without case, as on FAT media). Folders
 * of version control (.svn) and macOS resource forks (__MACOSX/) are files like any other: they
 * hold no METADATA.XML, so they are no subset.
 *
 * Each DocumentEntry's file is found from its URI slot, relative to the subset's folder, and its
 * SHA-1 and size are checked against the hash and size slots when they are there: a mismatch is
 * data on the result (the recipient decides), not a refusal. The full XDS metadata is read when
 * METADATA.XML has it; media with limited metadata or ebRIM 2.1 still give their documents.
 */
import { createHash } from 'node:crypto';
import { parseSubmitObjectsRequest } from '../xds/ebrim.js';
import type { SubmissionRequest } from '../xds/model.js';
import { XdsFormatError } from '../xds/xml-read.js';
import { METADATA_FILE, XDM_FOLDER } from './layout.js';
import { readManifest, type ManifestEntry } from './metadata-manifest.js';
import { XdmError, type XdmProblem } from './xdm-error.js';
import { foldedName, readZip, type ZipLimits } from './zip-read.js';

export type XdmLimits = ZipLimits;

/**
 * Limits by default. An MSSanté message carries a few documents (a report, its PDF, an image at
 * most), well under these; the entry limit is the CLI's largest input file (a signed CDA around a
 * 10 MiB PDF is about 14 MB), the ratio about ten times what XML reaches (NIST's samples: 6 to 11;
 * a base64 PDF inside a CDA: 1.3), and deflate's own maximum is 1032.
 */
export const DEFAULT_XDM_LIMITS: XdmLimits = {
  maxEntries: 1000,
  maxTotalBytes: 256 * 1024 * 1024,
  maxEntryBytes: 64 * 1024 * 1024,
  maxRatio: 100,
};

/** One DocumentEntry and its file, as found and checked. */
export interface XdmDocumentCheck {
  readonly entryUUID: string;
  readonly mimeType?: string;
  readonly uniqueId?: string;
  /** The URI slot, as METADATA.XML gives it. */
  readonly uri?: string;
  /** The archive entry the URI names, when there is one. */
  readonly file?: string;
  /** Real size and SHA-1 (lower-case hex) of the file. */
  readonly size?: number;
  readonly hash?: string;
  readonly declaredSize?: number;
  readonly declaredHash?: string;
  /** Undefined when the metadata declares no size (or hash), or when the file is missing. */
  readonly sizeMatches?: boolean;
  readonly hashMatches?: boolean;
  /** Why the document cannot be trusted as described: no URI, no such file, a size or hash that differs. */
  readonly problems: readonly string[];
}

export interface XdmSubset {
  /** The subset's folder, e.g. `IHE_XDM/SUBSET01`. */
  readonly path: string;
  readonly metadataFile: string;
  /** The full XDS metadata, when METADATA.XML has it (the patientId the recipient files under: french-specs §4). */
  readonly submission?: SubmissionRequest;
  /** Why `submission` is absent: what the full XDS metadata lack (limited metadata, ebRIM 2.1). */
  readonly metadataProblems: readonly string[];
  readonly checks: readonly XdmDocumentCheck[];
  /** The content of each document found, by entryUUID. */
  readonly documents: ReadonlyMap<string, Buffer>;
}

export interface ReadXdm {
  /** Every file of the archive by name (folders left out). */
  readonly files: ReadonlyMap<string, Buffer>;
  readonly subsets: readonly XdmSubset[];
}

const SUBSET_METADATA = new RegExp(`^(${XDM_FOLDER}/[^/]+)/${METADATA_FILE.replace('.', '\\.')}$`, 'i');

/** The archive's subsets with their documents checked; an XdmError lists every reason it is refused. */
export function readXdmZip(zip: Buffer, limits: Partial<XdmLimits> = {}): ReadXdm {
  const files = readZip(zip, limitsOf(limits));
  // zip-read refused the names that fold together, so this map loses none.
  const byFoldedName = new Map([...files.keys()].map((name) => [foldedName(name), name]));
  const problems: XdmProblem[] = [];
  const subsets: XdmSubset[] = [];
  for (const [name, content] of files) {
    const path = SUBSET_METADATA.exec(name)?.[1];
    if (path === undefined) continue;
    let manifest: ManifestEntry[];
    const xml = textOf(content);
    try {
      manifest = readManifest(xml);
    } catch (error) {
      if (!(error instanceof XdsFormatError)) throw error;
      problems.push({ code: 'metadata-unreadable', name, message: `a METADATA.XML cannot be read: ${error.problems.join('; ')}` });
      continue;
    }
    const full = fullMetadata(xml);
    const checks = manifest.map((entry) => checkDocument(entry, path, files, byFoldedName));
    const documents = new Map(checks.flatMap((c) => {
      const file = c.file === undefined ? undefined : files.get(c.file);
      return file === undefined ? [] : [[c.entryUUID, file] as const];
    }));
    subsets.push({ path, metadataFile: name, ...full, checks, documents });
  }
  if (subsets.length === 0 && problems.length === 0) {
    problems.push({ code: 'no-metadata', message: `the archive has no ${XDM_FOLDER}/<subset>/${METADATA_FILE}: it is not XDM media` });
  }
  if (problems.length > 0) throw new XdmError(problems);
  subsets.sort((a, b) => a.path.localeCompare(b.path));
  return { files, subsets };
}

function limitsOf(overrides: Partial<XdmLimits>): XdmLimits {
  const limits = { ...DEFAULT_XDM_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`the XDM limit ${name} must be a positive integer`);
  }
  return limits;
}

/** XML 1.0 §4.3.3 and appendix F: UTF-16 announces itself by its byte order mark; anything else is read as UTF-8. */
function textOf(content: Buffer): string {
  if (content[0] === 0xff && content[1] === 0xfe) return new TextDecoder('utf-16le').decode(content);
  if (content[0] === 0xfe && content[1] === 0xff) return new TextDecoder('utf-16be').decode(content);
  return new TextDecoder('utf-8').decode(content);
}

function fullMetadata(xml: string): { submission: SubmissionRequest; metadataProblems: readonly string[] } | { metadataProblems: readonly string[] } {
  try {
    return { submission: parseSubmitObjectsRequest(xml), metadataProblems: [] };
  } catch (error) {
    if (!(error instanceof XdsFormatError)) throw error;
    return { metadataProblems: error.problems };
  }
}

/** A URI that leaves the subset's folder, or the archive: a scheme, an absolute path, a backslash, a `..` segment. */
const OUTSIDE = /^[A-Za-z][A-Za-z0-9+.-]*:|^\/|\\|(^|\/)\.\.(\/|$)/;

function checkDocument(entry: ManifestEntry, subsetPath: string, files: ReadonlyMap<string, Buffer>, byFoldedName: ReadonlyMap<string, string>): XdmDocumentCheck {
  const problems = [...entry.problems];
  const declared = {
    ...(entry.mimeType === undefined ? {} : { mimeType: entry.mimeType }),
    ...(entry.uniqueId === undefined ? {} : { uniqueId: entry.uniqueId }),
    ...(entry.uri === undefined ? {} : { uri: entry.uri }),
    ...(entry.size === undefined ? {} : { declaredSize: entry.size }),
    ...(entry.hash === undefined ? {} : { declaredHash: entry.hash }),
  };
  const file = entry.uri === undefined ? undefined : fileOfUri(entry.uri, subsetPath, byFoldedName);
  if (entry.uri === undefined) problems.push('the DocumentEntry has no URI slot: its file is unknown');
  else if (OUTSIDE.test(entry.uri)) problems.push('the URI does not name a file inside the subset\'s folder');
  else if (file === undefined) problems.push('no file of the subset has the name the URI gives');
  const content = file === undefined ? undefined : files.get(file);
  if (file === undefined || content === undefined) return { entryUUID: entry.entryUUID, ...declared, problems };
  const size = content.length;
  const hash = createHash('sha1').update(content).digest('hex');
  const sizeMatches = entry.size === undefined ? undefined : entry.size === size;
  const hashMatches = entry.hash === undefined ? undefined : entry.hash === hash;
  if (sizeMatches === false) problems.push(`the file has ${String(size)} bytes, the size slot says ${String(entry.size)}`);
  if (hashMatches === false) problems.push('the file\'s SHA-1 differs from the hash slot');
  return {
    entryUUID: entry.entryUUID,
    ...declared,
    file,
    size,
    hash,
    ...(sizeMatches === undefined ? {} : { sizeMatches }),
    ...(hashMatches === undefined ? {} : { hashMatches }),
    problems,
  };
}

/** The archive entry a relative URI names from the subset's folder: as written, else %-decoded (RFC 3986 §2.1). */
function fileOfUri(uri: string, subsetPath: string, byFoldedName: ReadonlyMap<string, string>): string | undefined {
  if (OUTSIDE.test(uri)) return undefined;
  const candidates = [uri];
  try {
    const decoded = decodeURIComponent(uri);
    if (decoded !== uri && !OUTSIDE.test(decoded)) candidates.push(decoded);
  } catch {
    // Not %-encoded after all: the name as written is the only candidate.
  }
  return candidates.map((c) => byFoldedName.get(foldedName(`${subsetPath}/${c.replace(/^\.\//, '')}`))).find((f) => f !== undefined);
}
