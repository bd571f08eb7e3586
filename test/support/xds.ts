/**
 * XDS metadata in tests: hand-built models shaped like a DMP submission (a TLM-CR, its submission
 * set, a folder, the associations), and the judge of what Passerelle writes: xmllint with the IHE
 * schemas of ../shared/ihe/schema.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import fc from 'fast-check';
import type { Association, Author, Code, Cx, DocumentEntry, Folder, SubmissionRequest, SubmissionSet, Xcn, Xon } from '../../src/xds/model.js';
import { ASSOCIATION_TYPE, NS, STATUS } from '../../src/xds/vocabulary.js';
import { SHARED_DIR } from './shared.js';

export const INS = { id: '248039263001064', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' } as const;
const IPP = { id: 'IPP-00042', assigningAuthority: '1.2.250.1.71.4.2.2.1750803447', identifierTypeCode: 'PI' } as const;
const DOCTOR = {
  id: '801234567890', family: 'MARTIN', given: 'Jeanne', assigningAuthority: '1.2.250.1.71.4.2.1', nameTypeCode: 'D', identifierTypeCode: 'IDNPS',
} as const;
const HOSPITAL = { name: 'CENTRE HOSPITALIER DE TEST', id: '1750803447', assigningAuthority: '1.2.250.1.71.4.2.2', identifierTypeCode: 'IDNST' } as const;
const AUTHOR = { person: DOCTOR, institutions: [HOSPITAL], roles: ['Médecin'], specialties: ['G15_10/SM26^Qualifié en médecine générale (SM)^1.2.250.1.213.1.1.4.5'] };

export const SUBMISSION_SET_ID = 'urn:uuid:3b3e2a57-5b1a-4f7e-9d2c-6a1f4c8e0b01';
export const ENTRY_ID = 'urn:uuid:9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
export const FOLDER_ID = 'urn:uuid:5d6e7f80-9a1b-4c2d-8e3f-405162738495';
export const REPOSITORY_ID = '1.2.250.1.213.1.1.9.1';

/** A TLM-CR DocumentEntry with every attribute the model has, masked to professionals. */
export function documentEntry(overrides: Partial<DocumentEntry> = {}): DocumentEntry {
  return {
    entryUUID: ENTRY_ID,
    uniqueId: '1.2.250.1.213.1.1.9.4242.20260327.1',
    availabilityStatus: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
    mimeType: 'text/xml',
    title: 'Compte rendu de téléconsultation',
    comments: 'Téléconsultation de suivi « post-opératoire » & ajustement du traitement',
    typeCode: { code: '85208-7', codingScheme: '2.16.840.1.113883.6.1', displayName: 'Compte rendu de télémédecine' },
    classCode: { code: '10', codingScheme: '1.2.250.1.213.1.1.4.1', displayName: 'Compte rendu' },
    formatCode: { code: 'urn:ihe:iti:xds-sd:pdf:2008', codingScheme: '1.3.6.1.4.1.19376.1.2.3', displayName: 'Document à corps non structuré en Pdf/A-1' },
    confidentialityCodes: [
      { code: 'N', codingScheme: '2.16.840.1.113883.5.25', displayName: 'Normal' },
      { code: 'MASQUE_PS', codingScheme: '1.2.250.1.213.1.1.4.13', displayName: 'Masqué aux professionnels de santé' },
    ],
    eventCodes: [{ code: 'TLC', codingScheme: '1.2.250.1.215.200.3.3', displayName: 'Téléconsultation' }],
    healthcareFacilityTypeCode: { code: 'SA01', codingScheme: '1.2.250.1.71.4.2.4', displayName: 'Etablissement Public de santé' },
    practiceSettingCode: { code: 'AMBULATOIRE', codingScheme: '1.2.250.1.213.1.1.4.9', displayName: 'Ambulatoire' },
    creationTime: '20260327143500',
    serviceStartTime: '20260327140000',
    serviceStopTime: '20260327143000',
    languageCode: 'fr-FR',
    authors: [AUTHOR],
    legalAuthenticator: DOCTOR,
    patientId: INS,
    sourcePatientId: IPP,
    sourcePatientInfo: ['PID-5|DUPONT^Marie^^^^^L', 'PID-7|19800101', 'PID-8|F'],
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: 48213,
    repositoryUniqueId: REPOSITORY_ID,
    referenceIds: ['REQ-7^^^&1.2.250.1.71.4.2.2.1750803447&ISO^urn:ihe:iti:xds:2013:order'],
    ...overrides,
  };
}

export function submissionSet(overrides: Partial<SubmissionSet> = {}): SubmissionSet {
  return {
    entryUUID: SUBMISSION_SET_ID,
    uniqueId: '1.2.250.1.213.1.1.9.4242.20260327.2',
    sourceId: '1.2.250.1.213.1.1.9.4242',
    submissionTime: '20260327143612',
    contentTypeCode: { code: '04', codingScheme: '1.2.250.1.213.1.1.4.6', displayName: 'Hospitalisation de jour' },
    patientId: INS,
    authors: [AUTHOR],
    title: 'Compte rendu de téléconsultation',
    comments: 'Envoi par Passerelle',
    ...overrides,
  };
}

export function folder(overrides: Partial<Folder> = {}): Folder {
  return {
    entryUUID: FOLDER_ID,
    uniqueId: '1.2.250.1.213.1.1.9.4242.20260327.3',
    title: 'Suivi de télémédecine',
    patientId: INS,
    codes: [{ code: 'TLM', codingScheme: '1.2.250.1.213.1.1.4.6', displayName: 'Télémédecine' }],
    ...overrides,
  };
}

export function hasMember(id: string, target: string, slots: Record<string, string[]> = { SubmissionSetStatus: ['Original'] }): Association {
  return { id, type: ASSOCIATION_TYPE.HAS_MEMBER, sourceObject: SUBMISSION_SET_ID, targetObject: target, slots };
}

/** A submission with one of each object: the entry, a folder holding it, and the associations linking them. */
export function submission(overrides: Partial<SubmissionRequest> = {}): SubmissionRequest {
  return {
    submissionSet: submissionSet(),
    documentEntries: [documentEntry()],
    folders: [folder()],
    associations: [
      hasMember('urn:uuid:a1000000-0000-4000-8000-000000000001', ENTRY_ID),
      hasMember('urn:uuid:a1000000-0000-4000-8000-000000000002', FOLDER_ID, {}),
      { id: 'urn:uuid:a1000000-0000-4000-8000-000000000003', type: ASSOCIATION_TYPE.HAS_MEMBER, sourceObject: FOLDER_ID, targetObject: ENTRY_ID, slots: {} },
      { id: 'urn:uuid:a1000000-0000-4000-8000-000000000004', type: ASSOCIATION_TYPE.RPLC, sourceObject: ENTRY_ID, targetObject: 'urn:uuid:0e0e0e0e-1111-4222-8333-444455556666', slots: {} },
    ],
    ...overrides,
  };
}

export type XdsSchema = 'lcm' | 'query' | 'rs' | 'repository';
const SCHEMA_FILE: Readonly<Record<XdsSchema, string>> = { lcm: 'lcm.xsd', query: 'query.xsd', rs: 'rs.xsd', repository: 'XDS.b_DocumentRepository.xsd' };
export const SCHEMA_DIR = `${SHARED_DIR}ihe/schema/`;

/**
 * lcm.xsd imports urn:ihe:iti:rmd:2017 from rmd.xsd (ITI-62 Remove Metadata), which the NIST copy
 * does not ship; xmllint warns and skips the import. That is the only warning accepted: nothing
 * Passerelle writes is in that namespace, so a document using it would fail as undeclared.
 */
const MISSING_RMD_IMPORT = /rmd\.xsd/;

/**
 * `xmllint --noout --nonet --schema`. Valid means: exit status 0, xmllint's own "validates", and no
 * other line on its error output than the rmd.xsd warnings.
 */
export function xmllintXds(xml: string, schema: XdsSchema): { valid: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-xds-'));
  const path = join(dir, 'message.xml');
  writeFileSync(path, xml, 'utf8');
  try {
    const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', `${SCHEMA_DIR}${SCHEMA_FILE[schema]}`, path], { encoding: 'utf8' });
    const output = `${run.stdout}${run.stderr}`;
    const unexpected = output.split('\n').filter((line) => line.trim() !== '' && !MISSING_RMD_IMPORT.test(line) && line !== `${path} validates`);
    return { valid: run.status === 0 && output.includes(`${path} validates`) && unexpected.length === 0, output: output.replaceAll(path, 'message.xml') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws with xmllint's words unless `xml` is valid against `schema`. */
export function expectSchemaValid(xml: string, schema: XdsSchema, label: string = schema): void {
  const { valid, output } = xmllintXds(xml, schema);
  if (!valid) throw new Error(`${label}: xmllint does not find the XML valid against ${SCHEMA_FILE[schema]}:\n${output}`);
}

/**
 * The XOP infoset of `xml` (W3C XOP 1.0 §3.2): each xop:Include replaced by the base64 of the part it
 * names. XDS.b_DocumentRepository.xsd types Document as base64Binary, so it is this reconstituted
 * form, not the optimized one with its xop:Include, that the schema describes.
 */
export function reconstituteXop(xml: string, parts: ReadonlyMap<string, Buffer>): string {
  const document = new DOMParser().parseFromString(xml, 'text/xml');
  const includes = Array.from(document.getElementsByTagNameNS(NS.XOP, 'Include'));
  for (const include of includes) {
    const href = include.getAttribute('href') ?? '';
    const content = parts.get(decodeURIComponent(href.replace(/^cid:/, '')));
    if (content === undefined) throw new Error(`no part for ${href}`);
    const parent = include.parentNode;
    if (parent === null) throw new Error('an xop:Include without parent');
    parent.replaceChild(document.createTextNode(content.toString('base64')), include);
  }
  return new XMLSerializer().serializeToString(document);
}

/** XML 1.0 Char, less the three noncharacters the writer reserves (and that no interchanged text holds). */
const XML_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFDCF\uFDD3-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/**
 * Text as metadata holds it: non-empty, without white space at either end (readers trim slot values,
 * as pretty-printers indent them), with the characters that need escaping in XML or HL7 v2 and a
 * line break or tab inside.
 */
export const metadataText = fc.oneof(
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '^', '~', '|', '\\', ' ', '\n', '\t', '\r', 'é', '€', '𝄞', 'a', 'Z', '0', ';', '/'), minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
).filter((s) => s.trim() === s && s !== '' && XML_TEXT.test(s));

const uri = fc.uuid().map((u) => `urn:uuid:${u}`);
const oid = fc.array(fc.nat({ max: 99999 }), { minLength: 2, maxLength: 6 }).map((arcs) => `1.${arcs.join('.')}`);
const maybe = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arbitrary, { nil: undefined });
/** The object without its undefined properties (exactOptionalPropertyTypes). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the model type the record stands for
const defined = <R>(o: object): R => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;

const codeArbitrary: fc.Arbitrary<Code> = fc.record({ code: metadataText, codingScheme: fc.oneof(oid, metadataText), displayName: fc.oneof(fc.constant(''), metadataText) });
const cxArbitrary: fc.Arbitrary<Cx> = fc.record({ id: metadataText, assigningAuthority: oid, identifierTypeCode: maybe(fc.constantFrom('NH', 'PI')) }).map((o) => defined<Cx>(o));
const xcnArbitrary: fc.Arbitrary<Xcn> = fc.record({
  id: maybe(metadataText), family: maybe(metadataText), given: maybe(metadataText), assigningAuthority: maybe(oid), nameTypeCode: maybe(fc.constantFrom('D', 'U')), identifierTypeCode: maybe(fc.constantFrom('IDNPS', 'NH', 'RI')),
}).map((o) => defined<Xcn>(o)).filter((x) => x.id !== undefined || x.family !== undefined);
const xonArbitrary: fc.Arbitrary<Xon> = fc.record({ name: metadataText, id: maybe(metadataText), assigningAuthority: maybe(oid), identifierTypeCode: maybe(fc.constant('IDNST')) }).map((o) => defined<Xon>(o));
const authorArbitrary: fc.Arbitrary<Author> = fc.record({
  person: maybe(xcnArbitrary), institutions: fc.array(xonArbitrary, { maxLength: 2 }), roles: fc.array(metadataText, { maxLength: 2 }), specialties: fc.array(metadataText, { maxLength: 2 }),
}).map((o) => defined<Author>(o));
const status = maybe(fc.constantFrom(...Object.values(STATUS)));

const documentEntryArbitrary = (entryUUID: string): fc.Arbitrary<DocumentEntry> => fc.record({
  entryUUID: fc.constant(entryUUID),
  logicalId: maybe(uri),
  version: maybe(fc.integer({ min: 1, max: 999 }).map(String)),
  uniqueId: fc.oneof(oid, metadataText),
  availabilityStatus: status,
  mimeType: fc.oneof(fc.constantFrom('text/xml', 'application/pdf'), metadataText),
  title: metadataText,
  comments: maybe(metadataText),
  typeCode: codeArbitrary,
  classCode: codeArbitrary,
  formatCode: codeArbitrary,
  confidentialityCodes: fc.array(codeArbitrary, { minLength: 1, maxLength: 4 }),
  eventCodes: fc.array(codeArbitrary, { maxLength: 3 }),
  healthcareFacilityTypeCode: codeArbitrary,
  practiceSettingCode: codeArbitrary,
  creationTime: metadataText,
  serviceStartTime: maybe(metadataText),
  serviceStopTime: maybe(metadataText),
  languageCode: fc.constantFrom('fr-FR', 'en-US', 'art'),
  authors: fc.array(authorArbitrary, { maxLength: 2 }),
  legalAuthenticator: maybe(xcnArbitrary),
  patientId: cxArbitrary,
  sourcePatientId: cxArbitrary,
  sourcePatientInfo: fc.array(metadataText, { maxLength: 3 }),
  hash: maybe(fc.stringMatching(/^[0-9a-f]{40}$/)),
  size: maybe(fc.nat()),
  repositoryUniqueId: maybe(oid),
  referenceIds: fc.array(metadataText, { maxLength: 2 }),
}).map((o) => defined<DocumentEntry>(o));

const submissionSetArbitrary = (entryUUID: string): fc.Arbitrary<SubmissionSet> => fc.record({
  entryUUID: fc.constant(entryUUID),
  uniqueId: oid,
  sourceId: oid,
  submissionTime: metadataText,
  contentTypeCode: codeArbitrary,
  patientId: cxArbitrary,
  authors: fc.array(authorArbitrary, { maxLength: 2 }),
  title: maybe(metadataText),
  comments: maybe(metadataText),
  availabilityStatus: status,
}).map((o) => defined<SubmissionSet>(o));

const folderArbitrary = (entryUUID: string): fc.Arbitrary<Folder> => fc.record({
  entryUUID: fc.constant(entryUUID),
  uniqueId: oid,
  title: metadataText,
  patientId: cxArbitrary,
  codes: fc.array(codeArbitrary, { maxLength: 2 }),
  lastUpdateTime: maybe(metadataText),
  availabilityStatus: status,
}).map((o) => defined<Folder>(o));

const slotName = metadataText.filter((n) => !['__proto__', 'constructor', 'prototype'].includes(n));
const associationArbitrary = (id: string, ids: readonly string[]): fc.Arbitrary<Association> => fc.record({
  id: fc.constant(id),
  type: fc.constantFrom(...Object.values(ASSOCIATION_TYPE)),
  sourceObject: fc.constantFrom(...ids),
  targetObject: fc.oneof(fc.constantFrom(...ids), uri),
  slots: fc.uniqueArray(fc.tuple(slotName, fc.array(metadataText, { maxLength: 2 })), { selector: ([name]) => name, maxLength: 3 }).map((entries) => Object.fromEntries(entries)),
});

/** Any SubmissionRequest the model can hold: ids unique, every value any text ebRIM can carry. */
export const submissionArbitrary: fc.Arbitrary<SubmissionRequest> = fc
  .record({ entries: fc.nat({ max: 3 }), folders: fc.nat({ max: 2 }), associations: fc.nat({ max: 3 }) })
  .chain((n) => fc.uniqueArray(fc.uuid(), { minLength: 1 + n.entries + n.folders + n.associations, maxLength: 1 + n.entries + n.folders + n.associations }).chain((uuids) => {
    const ids = uuids.map((u) => `urn:uuid:${u}`);
    const [setId = '', ...rest] = ids;
    const entryIds = rest.slice(0, n.entries);
    const folderIds = rest.slice(n.entries, n.entries + n.folders);
    const associationIds = rest.slice(n.entries + n.folders);
    const objectIds = [setId, ...entryIds, ...folderIds];
    return fc.record({
      submissionSet: submissionSetArbitrary(setId),
      documentEntries: fc.tuple(...entryIds.map(documentEntryArbitrary)),
      folders: fc.tuple(...folderIds.map(folderArbitrary)),
      associations: fc.tuple(...associationIds.map((id) => associationArbitrary(id, objectIds))),
    });
  }));
