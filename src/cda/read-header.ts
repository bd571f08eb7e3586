/**
 * Reads the header of a CDA document — one Passerelle built, one a partner sent, or a signed CDA
 * (DC-GEN: a ds:Signature root enveloping the ClinicalDocument in ds:Object) — into the typed
 * fields the XDS mapping needs (french-specs §3.1). It reads, it does not validate: validation is
 * src/validation's job. It only insists on what the CI-SIS header requires (SM-SCH, french-specs
 * §1.1–1.2) and the mapping cannot do without, and names every missing element at once.
 *
 * It reads with src/xds/xml-read.ts, the safe and tolerant reader of partners' XML: a DOCTYPE is
 * refused before parsing, the size is bounded, well-formedness is checked first, only the five
 * predefined entities and character references are decoded, and namespace prefixes are ignored
 * (`cda:id`, `hl7:id` and `id` read the same), as partners choose their own.
 */
import { isUtf8 } from 'node:buffer';
import { XdsFormatError, childrenNamed, firstChild, readXml, type XmlElement } from '../xds/xml-read.js';
import type { II, Timestamp } from './model.js';

/** Largest document read (bytes): a signed CDA around a 10 MiB PDF is about 14 MB. */
export const MAX_CDA_BYTES = 64 * 1024 * 1024;

/** A coded value as read: the display name is optional in CDA. */
export interface CodedValue {
  readonly code: string;
  readonly codeSystem: string;
  readonly displayName?: string;
}

export interface NamePart {
  readonly value: string;
  /** BR: birth name (INS trait), CL: name in use (SM-SCH); absent for the list of birth given names. */
  readonly qualifier?: string;
}

export interface PersonName {
  readonly family: readonly NamePart[];
  readonly given: readonly NamePart[];
}

export interface CdaOrganization {
  readonly id?: II;
  readonly name?: string;
  /** Cadre d'exercice (JDV_J04): feeds practiceSettingCode. */
  readonly standardIndustryClassCode?: CodedValue;
}

/** assignedAuthor or assignedEntity: a professional (or, for an author, a device) and its organization. */
export interface CdaAssigned {
  readonly id: II;
  /** Profession / specialty (JDV_J01, TRE_G15). */
  readonly code?: CodedValue;
  readonly person?: PersonName;
  /** assignedAuthoringDevice of a system author. */
  readonly device?: { readonly manufacturerModelName?: string; readonly softwareName?: string };
  readonly organization?: CdaOrganization;
}

export interface CdaAuthor {
  readonly time: Timestamp;
  /** Role of the author (JDV_J47): feeds authorRole. */
  readonly functionCode?: CodedValue;
  readonly assigned: CdaAssigned;
}

export interface CdaServiceEvent {
  readonly code?: CodedValue;
  /** Required in the main act only (SM-SCH); informative events (classCode INFO) may have none. */
  readonly low?: Timestamp;
  readonly high?: Timestamp;
  readonly performers: readonly { readonly typeCode?: string; readonly assigned: CdaAssigned }[];
}

export interface CdaPatient {
  readonly ids: readonly II[];
  readonly name: PersonName;
  readonly gender: CodedValue;
  readonly birthTime: Timestamp;
}

export type CdaBody = { readonly kind: 'nonXMLBody'; readonly mediaType: string } | { readonly kind: 'structuredBody' };

export interface CdaHeader {
  readonly id: II;
  readonly code: CodedValue;
  readonly title: string;
  readonly effectiveTime: Timestamp;
  readonly confidentialityCode: CodedValue;
  readonly languageCode: string;
  readonly setId: II;
  readonly versionNumber: string;
  readonly templateIds: readonly II[];
  readonly patient: CdaPatient;
  readonly authors: readonly CdaAuthor[];
  readonly custodian: { readonly id: II; readonly name?: string };
  readonly legalAuthenticator: { readonly time: Timestamp; readonly assigned: CdaAssigned };
  /** documentationOf/serviceEvent in document order; the first is the main act (SM-SCH). */
  readonly serviceEvents: readonly CdaServiceEvent[];
  /** componentOf/encompassingEncounter/location/healthCareFacility/code (JDV_J02). */
  readonly healthcareFacilityCode: CodedValue;
  readonly relatedDocuments: readonly { readonly typeCode: string; readonly parentDocumentId: II }[];
  readonly body: CdaBody;
  /** Whether the document came enveloped in a ds:Signature. */
  readonly signed: boolean;
}

/** One reason the header cannot be read, located XPath-style from the ClinicalDocument (`/`: the whole document); never a patient value. */
export interface HeaderProblem {
  readonly location: string;
  readonly rule: string;
  readonly message: string;
}

export class CdaHeaderError extends Error {
  readonly problems: readonly HeaderProblem[];

  constructor(problems: readonly HeaderProblem[]) {
    super(`the CDA cannot be read: ${describeProblems(problems)}`);
    this.name = 'CdaHeaderError';
    this.problems = problems;
  }
}

/** `location: message` of each problem, joined (a problem of the whole document has no location). */
export function describeProblems(problems: readonly HeaderProblem[]): string {
  return problems.map((p) => (p.location === '/' ? p.message : `${p.location}: ${p.message}`)).join('; ');
}

const ROOT = '/ClinicalDocument';

export function readCdaHeader(xml: Buffer | string, options: { readonly maxBytes?: number } = {}): CdaHeader {
  const maxBytes = options.maxBytes ?? MAX_CDA_BYTES;
  const size = typeof xml === 'string' ? Buffer.byteLength(xml) : xml.length;
  if (size > maxBytes) fail('/', 'CDA_TOO_LARGE', `the document is ${String(size)} bytes, over the limit of ${String(maxBytes)}`);
  if (typeof xml !== 'string' && !isUtf8(xml)) fail('/', 'CDA_NOT_UTF8', 'the document is not valid UTF-8 (the CI-SIS requires UTF-8)');
  const text = (typeof xml === 'string' ? withoutLongBase64Text(xml) : withoutLongBase64Bytes(xml).toString('utf8')).replace(/^\uFEFF/, '');
  let root: XmlElement;
  try {
    root = readXml(text, { maxChars: maxBytes });
  } catch (error) {
    if (!(error instanceof XdsFormatError)) throw error;
    throw new CdaHeaderError(error.problems.map((message) => ({ location: '/', rule: 'CDA_NOT_READABLE', message })));
  }
  const { clinical, signed } = clinicalDocument(root);
  return new HeaderReader(clinical, signed).read();
}

/** Text runs shorter than this are kept: no header value is a 4 KiB run of base64. */
const LONG_BASE64_CHARS = 4096;
/** RFC 4648 §4 alphabet, padding and XML white space, matched from lastIndex on (sticky). */
const BASE64_RUN = /[A-Za-z0-9+/=\s]*/y;

/**
 * Where `text` has character data of LONG_BASE64_CHARS or more base64 characters: the body of a
 * level-1 CDA, or an embedded file. Reading it costs most of the time (a 300 KB CDA reads three
 * times faster without) and the header needs none of it. Removing it cannot change the markup:
 * such a run holds no `<`, `&` or quote, so it is text (of an element, a comment or a CDATA
 * section), never part of a tag. Each run is matched on its own: one regular expression over the
 * whole document with a minimum length overflows the engine's stack on a 14 MB body.
 */
function longBase64Runs(text: string): [start: number, end: number][] {
  const runs: [number, number][] = [];
  for (let gt = text.indexOf('>'); gt >= 0;) {
    const lt = text.indexOf('<', gt + 1);
    if (lt < 0) break;
    if (lt - gt - 1 >= LONG_BASE64_CHARS) {
      BASE64_RUN.lastIndex = gt + 1;
      BASE64_RUN.exec(text);
      if (BASE64_RUN.lastIndex === lt) runs.push([gt + 1, lt]);
    }
    gt = text.indexOf('>', lt);
  }
  return runs;
}

function withoutLongBase64Text(text: string): string {
  return cut(longBase64Runs(text), text.length, (start, end) => text.slice(start, end)).join('');
}

/**
 * The same on bytes, before they are decoded (decoding the body is most of the cost otherwise):
 * read as latin1 each byte is one character, and no byte of a multi-byte UTF-8 character is ASCII,
 * so the runs found are the same bytes.
 */
function withoutLongBase64Bytes(bytes: Buffer): Buffer {
  return Buffer.concat(cut(longBase64Runs(bytes.toString('latin1')), bytes.length, (start, end) => bytes.subarray(start, end)));
}

/** The pieces of [0, length) between the runs. */
function cut<T>(runs: readonly [number, number][], length: number, piece: (start: number, end: number) => T): T[] {
  const kept: T[] = [];
  let from = 0;
  for (const [start, end] of runs) {
    kept.push(piece(from, start));
    from = end;
  }
  kept.push(piece(from, length));
  return kept;
}

function fail(location: string, rule: string, message: string): never {
  throw new CdaHeaderError([{ location, rule, message }]);
}

/** The ClinicalDocument: the root, or the one in ds:Signature/ds:Object of a signed CDA. */
function clinicalDocument(root: XmlElement): { clinical: XmlElement; signed: boolean } {
  if (root.name === 'ClinicalDocument') return { clinical: root, signed: false };
  if (root.name !== 'Signature') fail('/', 'CDA_ROOT', `the root element is ${root.name}, neither ClinicalDocument nor ds:Signature`);
  const enveloped = children(root, 'Object').flatMap((o) => children(o, 'ClinicalDocument'));
  const [only] = enveloped;
  if (enveloped.length !== 1 || only === undefined) fail('/Signature/Object', 'CDA_SIGNED_WITHOUT_CDA', `a signed CDA envelops one ClinicalDocument in ds:Object, this one ${String(enveloped.length)}`);
  return { clinical: only, signed: true };
}

/** Walks the header once, collecting every missing required element before throwing. */
class HeaderReader {
  private readonly problems: HeaderProblem[] = [];

  constructor(private readonly doc: XmlElement, private readonly signed: boolean) {}

  read(): CdaHeader {
    const d = this.doc;
    const id = this.ii(first(d, 'id'), `${ROOT}/id`);
    const code = this.code(first(d, 'code'), `${ROOT}/code`);
    const title = textOf(first(d, 'title'));
    if (title === undefined) this.missing(`${ROOT}/title`, 'the document title');
    const effectiveTime = this.time(first(d, 'effectiveTime'), `${ROOT}/effectiveTime`);
    const confidentialityCode = this.code(first(d, 'confidentialityCode'), `${ROOT}/confidentialityCode`);
    const languageCode = attr(first(d, 'languageCode'), 'code');
    if (languageCode === undefined) this.missing(`${ROOT}/languageCode/@code`, 'the document language');
    const setId = this.ii(first(d, 'setId'), `${ROOT}/setId`);
    const versionNumber = attr(first(d, 'versionNumber'), 'value');
    if (versionNumber === undefined) this.missing(`${ROOT}/versionNumber/@value`, 'the version number');
    const templateIds = children(d, 'templateId').flatMap((t) => optionalIi(t) ?? []);

    const patient = this.patient();
    const authors = this.authors();
    const custodianOrganization = first(first(first(d, 'custodian'), 'assignedCustodian'), 'representedCustodianOrganization');
    const custodianPath = `${ROOT}/custodian/assignedCustodian/representedCustodianOrganization`;
    const custodianId = this.ii(first(custodianOrganization, 'id'), `${custodianPath}/id`);
    const custodianName = textOf(first(custodianOrganization, 'name'));
    const legal = first(d, 'legalAuthenticator');
    const legalPath = `${ROOT}/legalAuthenticator`;
    const legalTime = this.time(first(legal, 'time'), `${legalPath}/time`);
    const legalAssigned = this.assigned(first(legal, 'assignedEntity'), `${legalPath}/assignedEntity`);
    const serviceEvents = this.serviceEvents();
    const facilityPath = `${ROOT}/componentOf/encompassingEncounter/location/healthCareFacility/code`;
    const healthcareFacilityCode = this.code(first(first(first(first(first(d, 'componentOf'), 'encompassingEncounter'), 'location'), 'healthCareFacility'), 'code'), facilityPath);
    const relatedDocuments = this.relatedDocuments();
    const body = this.body();

    if (
      this.problems.length > 0 || id === undefined || code === undefined || title === undefined || effectiveTime === undefined || confidentialityCode === undefined
      || languageCode === undefined || setId === undefined || versionNumber === undefined || patient === undefined || custodianId === undefined
      || legalTime === undefined || legalAssigned === undefined || healthcareFacilityCode === undefined || body === undefined
    ) throw new CdaHeaderError(this.problems);
    return {
      id, code, title, effectiveTime, confidentialityCode, languageCode, setId, versionNumber, templateIds, patient, authors,
      custodian: { id: custodianId, ...(custodianName === undefined ? {} : { name: custodianName }) },
      legalAuthenticator: { time: legalTime, assigned: legalAssigned },
      serviceEvents, healthcareFacilityCode, relatedDocuments, body, signed: this.signed,
    };
  }

  private patient(): CdaPatient | undefined {
    const path = `${ROOT}/recordTarget/patientRole`;
    const role = first(first(this.doc, 'recordTarget'), 'patientRole');
    const ids = children(role, 'id').flatMap((i) => optionalIi(i) ?? []);
    if (ids.length === 0) this.missing(`${path}/id/@root`, 'the patient identifier');
    const patient = first(role, 'patient');
    const name = personName(first(patient, 'name'));
    if (name.family.length === 0) this.missing(`${path}/patient/name/family`, 'the patient family name');
    if (name.given.length === 0) this.missing(`${path}/patient/name/given`, 'the patient given name');
    const gender = this.code(first(patient, 'administrativeGenderCode'), `${path}/patient/administrativeGenderCode`);
    const birthTime = this.time(first(patient, 'birthTime'), `${path}/patient/birthTime`);
    if (ids.length === 0 || gender === undefined || birthTime === undefined) return undefined;
    return { ids, name, gender, birthTime };
  }

  private authors(): CdaAuthor[] {
    const authors = children(this.doc, 'author');
    if (authors.length === 0) this.missing(`${ROOT}/author`, 'an author');
    return authors.flatMap((author, i) => {
      const path = `${ROOT}/author[${String(i + 1)}]`;
      const time = this.time(first(author, 'time'), `${path}/time`);
      const assigned = this.assigned(first(author, 'assignedAuthor'), `${path}/assignedAuthor`);
      const functionCode = optionalCode(first(author, 'functionCode'));
      if (time === undefined || assigned === undefined) return [];
      return [{ time, assigned, ...(functionCode === undefined ? {} : { functionCode }) }];
    });
  }

  private assigned(node: XmlElement | undefined, path: string): CdaAssigned | undefined {
    const id = this.ii(first(node, 'id'), `${path}/id`);
    if (id === undefined || node === undefined) return undefined;
    const code = optionalCode(first(node, 'code'));
    const personNode = first(first(node, 'assignedPerson'), 'name');
    const deviceNode = first(node, 'assignedAuthoringDevice');
    const organizationNode = first(node, 'representedOrganization');
    const manufacturerModelName = textOf(first(deviceNode, 'manufacturerModelName'));
    const softwareName = textOf(first(deviceNode, 'softwareName'));
    return {
      id,
      ...(code === undefined ? {} : { code }),
      ...(personNode === undefined ? {} : { person: personName(personNode) }),
      ...(deviceNode === undefined ? {} : { device: { ...(manufacturerModelName === undefined ? {} : { manufacturerModelName }), ...(softwareName === undefined ? {} : { softwareName }) } }),
      ...(organizationNode === undefined ? {} : { organization: organization(organizationNode) }),
    };
  }

  private serviceEvents(): CdaServiceEvent[] {
    const documentations = children(this.doc, 'documentationOf');
    if (documentations.length === 0) this.missing(`${ROOT}/documentationOf/serviceEvent`, 'the documented act (documentationOf)');
    return documentations.flatMap((documentation, i) => {
      const path = `${ROOT}/documentationOf[${String(i + 1)}]/serviceEvent`;
      const event = first(documentation, 'serviceEvent');
      if (event === undefined) {
        this.missing(path, 'the serviceEvent of a documentationOf');
        return [];
      }
      const effective = first(event, 'effectiveTime');
      const low = i === 0 ? this.time(first(effective, 'low'), `${path}/effectiveTime/low`) : attr(first(effective, 'low'), 'value');
      const high = attr(first(effective, 'high'), 'value');
      const code = optionalCode(first(event, 'code'));
      const performers = children(event, 'performer').flatMap((performer, j) => {
        const assigned = this.assigned(first(performer, 'assignedEntity'), `${path}/performer[${String(j + 1)}]/assignedEntity`);
        const typeCode = attr(performer, 'typeCode');
        return assigned === undefined ? [] : [{ assigned, ...(typeCode === undefined ? {} : { typeCode }) }];
      });
      return [{ performers, ...(code === undefined ? {} : { code }), ...(low === undefined ? {} : { low }), ...(high === undefined ? {} : { high }) }];
    });
  }

  private relatedDocuments(): { typeCode: string; parentDocumentId: II }[] {
    return children(this.doc, 'relatedDocument').flatMap((related, i) => {
      const path = `${ROOT}/relatedDocument[${String(i + 1)}]`;
      const typeCode = attr(related, 'typeCode');
      if (typeCode === undefined) this.missing(`${path}/@typeCode`, 'the type of the related document (RPLC or XFRM)');
      const parentDocumentId = this.ii(first(first(related, 'parentDocument'), 'id'), `${path}/parentDocument/id`);
      return typeCode === undefined || parentDocumentId === undefined ? [] : [{ typeCode, parentDocumentId }];
    });
  }

  private body(): CdaBody | undefined {
    const component = first(this.doc, 'component');
    const nonXml = first(component, 'nonXMLBody');
    if (nonXml !== undefined) {
      const mediaType = attr(first(nonXml, 'text'), 'mediaType');
      if (mediaType === undefined) this.missing(`${ROOT}/component/nonXMLBody/text/@mediaType`, 'the media type of the non-structured body');
      return mediaType === undefined ? undefined : { kind: 'nonXMLBody', mediaType };
    }
    if (first(component, 'structuredBody') !== undefined) return { kind: 'structuredBody' };
    this.missing(`${ROOT}/component`, 'the body (component/nonXMLBody or component/structuredBody)');
    return undefined;
  }

  private ii(node: XmlElement | undefined, path: string): II | undefined {
    const ii = optionalIi(node);
    if (ii === undefined) this.missing(`${path}/@root`, `${path.slice(path.lastIndexOf('/') + 1)} with a root`);
    return ii;
  }

  private code(node: XmlElement | undefined, path: string): CodedValue | undefined {
    const code = attr(node, 'code');
    const codeSystem = attr(node, 'codeSystem');
    if (code === undefined) this.missing(`${path}/@code`, `the code of ${path.slice(path.lastIndexOf('/') + 1)}`);
    if (codeSystem === undefined) this.missing(`${path}/@codeSystem`, `the code system of ${path.slice(path.lastIndexOf('/') + 1)}`);
    return code === undefined || codeSystem === undefined ? undefined : optionalCode(node);
  }

  private time(node: XmlElement | undefined, path: string): Timestamp | undefined {
    const value = attr(node, 'value');
    if (value === undefined) this.missing(`${path}/@value`, `the value of ${path.slice(path.lastIndexOf('/') + 1)}`);
    return value;
  }

  private missing(location: string, what: string): void {
    this.problems.push({ location, rule: 'CDA_HEADER_MISSING', message: `${what} is missing` });
  }
}

function children(node: XmlElement | undefined, name: string): readonly XmlElement[] {
  return node === undefined ? [] : childrenNamed(node, name);
}

function first(node: XmlElement | undefined, name: string): XmlElement | undefined {
  return node === undefined ? undefined : firstChild(node, name);
}

/** An attribute's value, surrounding white space removed; empty counts as absent. */
function attr(node: XmlElement | undefined, name: string): string | undefined {
  const trimmed = node?.attributes[name]?.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** An element's own text, white space collapsed; empty counts as absent. */
function textOf(node: XmlElement | undefined): string | undefined {
  const collapsed = node?.text.replace(/\s+/g, ' ').trim();
  return collapsed === '' ? undefined : collapsed;
}

function optionalIi(node: XmlElement | undefined): II | undefined {
  const root = attr(node, 'root');
  if (root === undefined) return undefined;
  const extension = attr(node, 'extension');
  return extension === undefined ? { root } : { root, extension };
}

/** A code with its system, or nothing (a nullFlavor element, or one without code). */
function optionalCode(node: XmlElement | undefined): CodedValue | undefined {
  const code = attr(node, 'code');
  const codeSystem = attr(node, 'codeSystem');
  if (code === undefined || codeSystem === undefined) return undefined;
  const displayName = attr(node, 'displayName');
  return displayName === undefined ? { code, codeSystem } : { code, codeSystem, displayName };
}

function personName(name: XmlElement | undefined): PersonName {
  const parts = (tag: string): NamePart[] => children(name, tag).flatMap((part) => {
    const value = textOf(part);
    const qualifier = attr(part, 'qualifier');
    if (value === undefined) return [];
    return [qualifier === undefined ? { value } : { value, qualifier }];
  });
  return { family: parts('family'), given: parts('given') };
}

function organization(node: XmlElement): CdaOrganization {
  const id = optionalIi(first(node, 'id'));
  const name = textOf(first(node, 'name'));
  const sic = optionalCode(first(node, 'standardIndustryClassCode'));
  return { ...(id === undefined ? {} : { id }), ...(name === undefined ? {} : { name }), ...(sic === undefined ? {} : { standardIndustryClassCode: sic }) };
}
