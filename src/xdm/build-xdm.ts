/**
 * Writing an XDM archive (IHE ITI-32, Distribute Document Set on Media, as the ZIP file an MSSanté
 * message carries: french-specs §4): INDEX.HTM, README.TXT, IHE_XDM/SUBSET01/METADATA.XML and the
 * documents beside it, DOC0001.XML (the CDA) and, when given, DOC0002.PDF (its PDF copy).
 *
 * The metadata are the DMP's (src/xds/map-cda.ts, french-specs §3.1) with what XDM adds: each
 * DocumentEntry's URI is its file name relative to METADATA.XML, and its hash and size are those of
 * that file, computed here from the bytes written so they cannot disagree; the repositoryUniqueId,
 * optional for media (ITI TF-3 §4.3.1), is written only when given.
 */
import { createHash, randomUUID } from 'node:crypto';
import { strToU8, zipSync, type ZipOptions, type Zippable } from 'fflate';
import { uuidOid } from '../cda/document-ids.js';
import { readCdaHeader, type CdaHeader } from '../cda/read-header.js';
import { submitObjectsRequestXml } from '../xds/ebrim.js';
import { association, hasMember, submissionOfCda, type DmpMasking } from '../xds/map-cda.js';
import type { Code, DocumentEntry, SubmissionRequest } from '../xds/model.js';
import { ASSOCIATION_TYPE, CODING_SCHEME } from '../xds/vocabulary.js';
import { FIRST_SUBSET, INDEX_FILE, METADATA_FILE, README_FILE, XDM_FOLDER } from './layout.js';
import { indexHtm, readmeTxt } from './media-files.js';
import { XdmError, type XdmProblem } from './xdm-error.js';

export interface XdmDocument {
  /** The file in IHE_XDM/SUBSET01: DOC0001.XML, DOC0002.PDF. */
  readonly fileName: string;
  readonly content: Buffer;
  /** Its metadata; buildXdmZip writes it with URI = fileName and the hash and size of `content`. */
  readonly entry: DocumentEntry;
}

export interface XdmPackage {
  readonly submission: SubmissionRequest;
  readonly documents: readonly XdmDocument[];
}

export interface XdmPackageOptions {
  /** The PDF copy of the CDA, written as DOC0002.PDF with a DocumentEntry of its own. */
  readonly pdf?: Buffer;
  /** Only when a repository will hold the documents; XDM media need none. */
  readonly repositoryUniqueId?: string;
  /** OID of the sending system (configuration: dmp.sourceId). */
  readonly sourceId: string;
  /** JDV_J59 (configuration: dmp.contentTypeCode). */
  readonly contentTypeCode: Code;
  readonly now: Date;
  /** `urn:uuid:` ids, asked for in this order: the submission set, the CDA's entry, the PDF's. */
  readonly entryUUID?: () => string;
  readonly masking?: DmpMasking;
  /** The CDA's header, when the caller has read it already (it is read from the CDA otherwise). */
  readonly header?: CdaHeader;
}

export interface XdmZipOptions {
  /** Title of INDEX.HTM. */
  readonly indexTitle?: string;
  /** The application README.TXT names; Passerelle without a version by default. */
  readonly producer?: { readonly name: string; readonly version?: string };
  /** Whom README.TXT says to contact (e.g. the application mailbox). */
  readonly contact?: string;
}

/** The file names Passerelle gives: ISO 9660 level 1 (8.3, upper case), which every medium and unzip keeps as is. */
export const CDA_FILE = 'DOC0001.XML';
export const PDF_FILE = 'DOC0002.PDF';
const PDF_MIME_TYPE = 'application/pdf';
const ISO_9660_NAME = /^[A-Z0-9_]{1,8}(\.[A-Z0-9_]{1,3})?$/;
const MS_DOS_DIRECTORY = 0x10;

/**
 * formatCode of the PDF copy [UNVERIFIED]. JDV_J10 (french-specs §3.2) has no code for a bare PDF:
 * `urn:ihe:iti:xds-sd:pdf:2008` is a CDA wrapping a PDF (XDS-SD), which this file is not. IHE's code
 * for a document whose mime type says all (mimeTypeSufficient, added to ITI TF-3 §4.2.3.2.9 formatCode in 2017) is
 * used; it is not in JDV_J10, so a DMP would refuse it, and which code MSSanté recipients expect is
 * not public. Change it here when that is known.
 */
export const PDF_COPY_FORMAT_CODE: Code = { code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient', codingScheme: CODING_SCHEME.IHE_FORMAT_CODE, displayName: 'Format from mimeType' };

const DEFAULT_INDEX_TITLE = 'Documents transmis par messagerie sécurisée de santé';
const DEFAULT_PRODUCER = { name: 'Passerelle' } as const;
const DEFAULT_CONTACT = 'non renseigné (à configurer)';

/**
 * The package of one CDA (and its PDF copy): the DMP's mapping of the CDA header, and for the PDF a
 * second DocumentEntry with the same patient, authors, type and dates, its own uniqueId (derived
 * from the CDA's, so the same CDA always gives its PDF the same one), mimeType application/pdf, and
 * an XFRM association to the CDA: ITI TF-3 §4.2.2.2 names "a rendering of a CDA document" as the
 * example of a transformation, and it tells the recipient the PDF is no second document.
 * Throws XdsMappingError or CdaHeaderError (documentInvalid turns them into the catalogue's error)
 * when the CDA lacks what the metadata need.
 */
export function xdmPackageOfCda(cda: Buffer, o: XdmPackageOptions): XdmPackage {
  const newUuid = o.entryUUID ?? ((): string => `urn:uuid:${randomUUID()}`);
  const submissionSetUUID = newUuid();
  const submission = submissionOfCda(cda, {
    document: {
      entryUUID: newUuid(),
      ...(o.repositoryUniqueId === undefined ? {} : { repositoryUniqueId: o.repositoryUniqueId }),
      ...(o.masking === undefined ? {} : { masking: o.masking }),
    },
    submissionSet: { entryUUID: submissionSetUUID, uniqueId: uuidOid(submissionSetUUID, 'xdm-submission-set'), sourceId: o.sourceId, contentTypeCode: o.contentTypeCode, submissionTime: o.now },
  }, o.header ?? readCdaHeader(cda));
  const [cdaEntry] = submission.documentEntries;
  if (cdaEntry === undefined) throw new Error('the submission of a CDA has its DocumentEntry');
  const cdaDocument: XdmDocument = { fileName: CDA_FILE, content: cda, entry: { ...cdaEntry, uri: CDA_FILE } };
  if (o.pdf === undefined) return { submission: { ...submission, documentEntries: [cdaDocument.entry] }, documents: [cdaDocument] };

  const pdfEntry: DocumentEntry = {
    ...cdaEntry,
    entryUUID: newUuid(),
    uniqueId: uuidOid(cdaEntry.uniqueId, 'xdm-pdf-copy'),
    mimeType: PDF_MIME_TYPE,
    formatCode: PDF_COPY_FORMAT_CODE,
    hash: sha1(o.pdf),
    size: o.pdf.length,
    uri: PDF_FILE,
  };
  return {
    submission: {
      ...submission,
      documentEntries: [cdaDocument.entry, pdfEntry],
      associations: [
        ...submission.associations,
        hasMember(submission.submissionSet.entryUUID, pdfEntry.entryUUID),
        association(ASSOCIATION_TYPE.XFRM, pdfEntry.entryUUID, cdaEntry.entryUUID),
      ],
    },
    documents: [cdaDocument, { fileName: PDF_FILE, content: o.pdf, entry: pdfEntry }],
  };
}

/**
 * The IHE_XDM.ZIP bytes of `pkg`. The same package gives the same bytes: entries in a fixed order,
 * their time the submission time. Throws an XdmError when the documents and the DocumentEntries do
 * not correspond one to one, or a file name is not an ISO 9660 one.
 */
export function buildXdmZip(pkg: XdmPackage, o: XdmZipOptions = {}): Buffer {
  checkPackage(pkg);
  const entries = new Map(pkg.documents.map((d) => [d.entry.entryUUID, { ...d.entry, uri: d.fileName, hash: sha1(d.content), size: d.content.length }]));
  const submission: SubmissionRequest = { ...pkg.submission, documentEntries: pkg.submission.documentEntries.map((e) => entries.get(e.entryUUID) ?? e) };
  const createdAt = isoOfDtm(submission.submissionSet.submissionTime);
  const description = {
    title: o.indexTitle ?? DEFAULT_INDEX_TITLE,
    producer: o.producer ?? DEFAULT_PRODUCER,
    contact: o.contact ?? DEFAULT_CONTACT,
    ...senderOf(submission),
    createdAt: createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    documents: pkg.documents.map((d) => ({ fileName: d.fileName, entry: entries.get(d.entry.entryUUID) ?? d.entry, size: d.content.length })),
  };
  // Folders are entries of their own, stored (an empty deflate stream is two bytes of nothing) with
  // the MS-DOS directory attribute (APPNOTE.TXT §4.4.15), as in NIST's samples: an unzip that
  // creates folders only from folder entries still finds them.
  const folder: [Uint8Array, ZipOptions] = [new Uint8Array(0), { level: 0, attrs: MS_DOS_DIRECTORY }];
  const subsetPath = `${XDM_FOLDER}/${FIRST_SUBSET}/`;
  const files: Zippable = {
    [INDEX_FILE]: strToU8(indexHtm(description)),
    [README_FILE]: strToU8(readmeTxt(description)),
    [`${XDM_FOLDER}/`]: folder,
    [subsetPath]: folder,
    [`${subsetPath}${METADATA_FILE}`]: strToU8(submitObjectsRequestXml(submission)),
  };
  // A PDF's content is compressed already: deflating it again costs time for nothing.
  for (const d of pkg.documents) files[`${subsetPath}${d.fileName}`] = d.entry.mimeType === 'application/pdf' ? [d.content, { level: 0 }] : d.content;
  return Buffer.from(zipSync(files, { level: 6, mtime: dosWallClock(createdAt) }));
}

function checkPackage(pkg: XdmPackage): void {
  const problems: XdmProblem[] = [];
  const problem = (message: string): void => { problems.push({ code: 'invalid-package', message }); };
  const entryIds = new Set(pkg.submission.documentEntries.map((e) => e.entryUUID));
  const names = new Set<string>();
  for (const d of pkg.documents) {
    if (!ISO_9660_NAME.test(d.fileName) || d.fileName === METADATA_FILE) problem(`the file name ${d.fileName} is not an 8.3 upper-case name other than ${METADATA_FILE}`);
    if (names.has(d.fileName)) problem(`two documents are named ${d.fileName}`);
    names.add(d.fileName);
    if (!entryIds.has(d.entry.entryUUID)) problem(`the document ${d.fileName} has no DocumentEntry in the submission`);
  }
  const documented = new Set(pkg.documents.map((d) => d.entry.entryUUID));
  for (const id of entryIds) if (!documented.has(id)) problem(`the DocumentEntry ${id} has no document`);
  if (documented.size !== pkg.documents.length) problem('a DocumentEntry has more than one document');
  if (problems.length > 0) throw new XdmError(problems, 'the XDM package cannot be written');
}

/** The sending organisation: the first authorInstitution of the submission set (XON.1, its name). */
function senderOf(submission: SubmissionRequest): { sender?: string } {
  const sender = submission.submissionSet.authors.flatMap((a) => a.institutions)[0]?.name;
  return sender === undefined ? {} : { sender };
}

function sha1(content: Buffer): string {
  return createHash('sha1').update(content).digest('hex');
}

/** A DTM `YYYYMMDD[hhmm[ss]]` in UTC as an instant. */
function isoOfDtm(dtm: string): Date {
  const part = (from: number, to: number): number => Number(dtm.slice(from, to) || '0');
  return new Date(Date.UTC(part(0, 4), Math.max(0, part(4, 6) - 1), Math.max(1, part(6, 8)), part(8, 10), part(10, 12), part(12, 14)));
}

/**
 * The Date whose local fields are `instant`'s UTC fields. A ZIP entry's DOS date and time have no
 * time zone (APPNOTE.TXT §4.4.6) and fflate writes the local fields of the Date it is given: so
 * given this one, it writes UTC wherever Passerelle runs, and the same package gives the same bytes.
 */
function dosWallClock(instant: Date): Date {
  return new Date(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate(), instant.getUTCHours(), instant.getUTCMinutes(), instant.getUTCSeconds());
}
