/**
 * Why an XDM archive is refused, or a package cannot be written: every problem at once, each with a
 * stable code. A problem names an entry by its place in the archive's central directory; the
 * entry's name is kept apart (`name`), as data, because a name is the sender's text and may say more
 * than it should: messages, which end up in logs, never quote it.
 */

export type XdmProblemCode =
  /** Not a ZIP archive, or one whose records contradict each other. */
  | 'not-a-zip'
  /** A ZIP feature the reader does not accept: several disks, ZIP64 end records. */
  | 'unsupported-zip'
  | 'too-many-entries'
  /** A `..` segment: extracted, the entry would land outside the folder it is extracted into. */
  | 'path-traversal'
  /** `/x`, `C:…`: extracted, the entry would land wherever it says. */
  | 'absolute-path'
  /** A name no file system would store as is: backslashes, control characters, `:`, empty or `.` segments. */
  | 'unsafe-name'
  /** The same name twice, also when only the case or the Unicode normalization differ (FAT media fold them). */
  | 'duplicate-entry'
  | 'encrypted-entry'
  | 'symlink-entry'
  /** A device, a FIFO, a socket… */
  | 'special-entry'
  | 'unsupported-compression'
  | 'entry-too-large'
  | 'archive-too-large'
  | 'compression-ratio'
  /** The inflated size differs from the size the archive declares. */
  | 'size-mismatch'
  | 'crc-mismatch'
  /** The compressed data cannot be inflated. */
  | 'corrupt-entry'
  /** Two entries share bytes: the construction of non-recursive zip bombs. */
  | 'overlapping-entries'
  /** The local header of an entry says something else than its central directory record. */
  | 'header-mismatch'
  /** No IHE_XDM/<subset>/METADATA.XML. */
  | 'no-metadata'
  | 'metadata-unreadable'
  /** buildXdmZip: the package's documents and entries do not correspond. */
  | 'invalid-package';

export interface XdmProblem {
  readonly code: XdmProblemCode;
  /** 1-based place of the entry in the central directory, when the problem is an entry's. */
  readonly entry?: number;
  /** The entry's name as the archive spells it (data, never in `message`). */
  readonly name?: string;
  readonly message: string;
}

export class XdmError extends Error {
  readonly problems: readonly XdmProblem[];

  /** `summary`: what failed, before the list of problems. */
  constructor(problems: readonly XdmProblem[], summary = 'the XDM archive is refused') {
    super(`${summary}: ${problems.map((p) => (p.entry === undefined ? p.message : `entry ${String(p.entry)}: ${p.message}`)).join('; ')}`);
    this.name = 'XdmError';
    this.problems = problems;
  }
}
