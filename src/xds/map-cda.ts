/**
 * The CDA → XDS mapping (french-specs §3.1, after the ANS HL7 v2 transmission volet's mapping.md and
 * the PDSM4DMP logical models): a pure function of the CDA header, the document's octets and the
 * options. Every metadata value comes from one of those three, never from a second copy of the
 * input (the act report): what the DMP indexes is what the document says.
 *
 * What the mapping cannot derive — a type code without a class, a body without a format, a patient
 * without INS — is collected and thrown at once as an XdsMappingError naming each place in the CDA.
 */
import { createHash } from 'node:crypto';
import { CdaHeaderError, describeProblems, readCdaHeader, type CdaAssigned, type CdaHeader, type CodedValue, type HeaderProblem, type NamePart } from '../cda/read-header.js';
import { PasserelleError } from '../domain/errors.js';
import { ID_NAT_PS_OID, ID_NAT_STRUCT_OID, INS_OIDS } from '../domain/identifiers.js';
import { escapeHl7, formatCe, formatCx, formatDtm } from './hl7v2.js';
import type { Association, Code, Cx, DocumentEntry, SubmissionRequest, SubmissionSet, Xcn, Xon } from './model.js';
import {
  ASSOCIATION_SLOT, ASSOCIATION_TYPE, CDA_MIME_TYPE, CODING_SCHEME, DMP_MASKING_CODE, HL7_CONFIDENTIALITY_LABEL, ORGANIZATION_ID_TYPE,
  PATIENT_ID_TYPE, PERSON_ID_TYPE, PERSON_NAME_TYPE, SUBMISSION_SET_STATUS,
} from './vocabulary.js';

export interface DmpMasking {
  /** MASQUE_PS: masked to health professionals (TD3.3a). */
  readonly hiddenFromProfessionals?: boolean;
  /** INVISIBLE_PATIENT: not visible to the patient, until a professional has told them (TD3.3b). */
  readonly hiddenFromPatient?: boolean;
  /** INVISIBLE_REPRESENTANTS_LEGAUX: not visible to the legal representatives of a minor (TD3.3b). */
  readonly hiddenFromLegalRepresentatives?: boolean;
}

export interface DocumentEntryOptions {
  /** `urn:uuid:…` of the new DocumentEntry. */
  readonly entryUUID: string;
  /**
   * OID of the repository that will hold the document (configuration). Required by ITI-41 (the DMP
   * client always gives it); absent for XDM media (ITI-32), which no repository holds: the
   * metadata optionality of ITI TF-3 §4.3.1 (Table 4.3.1-3) makes it optional for a Portable Media Creator.
   */
  readonly repositoryUniqueId?: string;
  /** Extra DMP confidentiality codes (configuration or request). */
  readonly masking?: DmpMasking;
}

export interface SubmissionSetOptions {
  readonly entryUUID: string;
  /** An OID (ITI TF-3 4.2.3.3.12). */
  readonly uniqueId: string;
  /** OID of the submitting system (configuration). */
  readonly sourceId: string;
  /** JDV_J59-ContentTypeCode-DMP (configuration). */
  readonly contentTypeCode: Code;
  readonly submissionTime: Date;
}

export interface CdaSubmissionOptions {
  readonly document: DocumentEntryOptions;
  readonly submissionSet: SubmissionSetOptions;
  /** The approved entry this document replaces (TD2.1): an RPLC association is added to it. */
  readonly replaces?: { readonly entryUUID: string };
}

/** What the CDA lacks for its XDS metadata, each problem located in the CDA (never a patient value). */
export class XdsMappingError extends Error {
  readonly problems: readonly HeaderProblem[];

  constructor(problems: readonly HeaderProblem[]) {
    super(`the CDA cannot be mapped to XDS metadata: ${describeProblems(problems)}`);
    this.name = 'XdsMappingError';
    this.problems = problems;
  }
}

const LOINC = '2.16.840.1.113883.6.1';
/** TRE_A05 / JDV_J07: the CI-SIS's own document types (SYNTH, IMG-KOS…). */
const ANS_DOCUMENT_TYPES = '1.2.250.1.213.1.1.4.12';
/** HL7 v3 AdministrativeGender → HL7 v2 Table 0001 (UN, undifferentiated, is U). */
const SEX: Readonly<Record<string, string>> = { F: 'F', M: 'M', UN: 'U' };

const classCode = (code: string, displayName: string): Code => ({ code, codingScheme: CODING_SCHEME.CLASS_CODE, displayName });
/** Labels of JDV_J57-ClassCode-DMP (OID 1.2.250.1.213.1.1.5.6, NOS https://mos.esante.gouv.fr/NOS/JDV_J57-ClassCode-DMP). */
const CLASS = {
  REPORT: classCode('10', 'Compte rendu'),
  SYNTHESIS: classCode('11', 'Synthèse'),
  IMAGING: classCode('31', 'Imagerie médicale'),
  PRESCRIPTION: classCode('42', 'Prescription'),
} as const;

/**
 * ASS_X04-CorrespondanceType-Classe-CISIS (SVS 1.2.250.1.213.1.1.4.249, dateMaj 2024-02-23; copy read
 * in nizarbs2508/InteropStudio2024 src/main/resources/xml/ASS_X04-CorrespondanceType-Classe-CISIS.xml
 * @e3f382ca; french-specs §3.2): the type codes of the documents Passerelle files and of the ANS
 * examples. A type missing here is refused by name rather than filed under a guessed class.
 */
const TYPE_TO_CLASS: ReadonlyMap<string, Code> = new Map([
  [`${LOINC}|85208-7`, CLASS.REPORT], // CR de télémédecine (TLM-CR)
  [`${LOINC}|75496-0`, CLASS.REPORT], // Demande d'acte de télémédecine (TLM-DA)
  [`${LOINC}|11490-0`, CLASS.REPORT], // Lettre de liaison à la sortie d'un établissement de soins
  [`${LOINC}|11488-4`, CLASS.REPORT], // CR ou fiche de consultation ou de visite
  [`${LOINC}|11502-2`, CLASS.REPORT], // CR d'examens biologiques
  [`${LOINC}|18748-4`, CLASS.IMAGING], // CR d'imagerie médicale
  [`${LOINC}|34133-9`, CLASS.SYNTHESIS], // Synthèse d'épisode de soins
  [`${LOINC}|60591-5`, CLASS.SYNTHESIS], // Synthèse médicale (VSM, IPS)
  [`${LOINC}|57833-6`, CLASS.PRESCRIPTION], // Prescription de produits de santé
  [`${ANS_DOCUMENT_TYPES}|SYNTH`, CLASS.SYNTHESIS], // Synthèse (VSM)
]);

const iheFormat = (code: string, displayName: string): Code => ({ code, codingScheme: CODING_SCHEME.IHE_FORMAT_CODE, displayName });
const asipFormat = (code: string, displayName: string): Code => ({ code, codingScheme: CODING_SCHEME.ASIP_FORMAT_CODE, displayName });

/**
 * ASS_A12_CorresMediaTypeCDANonStructure-XdsFormatCode-CISIS (NOS, v5.0.0): the formatCode of a
 * level-1 document from nonXMLBody/text@mediaType; labels of TRE_A11 as JDV_J60-FormatCode-DMP gives them.
 */
const FORMAT_BY_MEDIA_TYPE: ReadonlyMap<string, Code> = new Map([
  ['application/pdf', iheFormat('urn:ihe:iti:xds-sd:pdf:2008', 'Document à corps non structuré en Pdf/A-1')],
  ['text/plain', iheFormat('urn:ihe:iti:xds-sd:text:2008', 'Document à corps non structuré en texte brut')],
  ['text/rtf', iheFormat('urn:ihe:iti-fr:xds-sd:rtf:2010', 'Document à corps non structuré en format rtf')],
  ['image/jpeg', iheFormat('urn:ihe:iti-fr:xds-sd:jpeg:2010', 'Document à corps non structuré en format jpeg')],
  ['image/tiff', iheFormat('urn:ihe:iti-fr:xds-sd:tiff:2010', 'Document à corps non structuré en format tiff')],
]);

/**
 * ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS (SVS 1.2.250.1.213.1.1.4.331, dateMaj 2024-01-26; same
 * copy as ASS_X04): the formatCode of a level-3 document from its volet's templateId, for the
 * volets of Passerelle and of the ANS examples; labels of JDV_J60-FormatCode-DMP.
 */
const FORMAT_BY_TEMPLATE: ReadonlyMap<string, Code> = new Map([
  ['1.2.250.1.213.1.1.1.38', asipFormat('urn:asip:ci-sis:tlm-da:2020', "Demande d'acte de télémédecine")],
  ['1.2.250.1.213.1.1.1.13', asipFormat('urn:asip:ci-sis:vsm:2012', 'Synthèse médicale')],
  ['1.2.250.1.213.1.1.1.39', iheFormat('urn:ihe:pharm:pre:2010', 'Prescription de médicaments')],
  ['1.2.250.1.213.1.1.1.51', iheFormat('urn:ihe:pcc:ips:2020', 'Synthèse médicale')],
]);

/** The DMP masking codes asked for, in JDV_J08's order of the three flags. */
/**
 * The catalogue's `document-invalid` for a CDA that cannot be read or mapped, with every problem
 * as a violation located in the CDA (never a patient value); undefined for any other error.
 */
export function documentInvalid(error: unknown, name: string): PasserelleError | undefined {
  if (!(error instanceof CdaHeaderError) && !(error instanceof XdsMappingError)) return undefined;
  const what = error instanceof CdaHeaderError ? 'the CDA cannot be read' : 'the CDA cannot be mapped to XDS metadata';
  return new PasserelleError('document-invalid', `${name}: ${what} (${String(error.problems.length)} problem(s))`, {
    violations: error.problems.map((p) => ({ pointer: p.location, rule: p.rule, message: p.message })),
  });
}

export function maskingCodes(masking: DmpMasking): Code[] {
  return [
    ...(masking.hiddenFromProfessionals === true ? [DMP_MASKING_CODE.HIDDEN_FROM_PROFESSIONALS] : []),
    ...(masking.hiddenFromPatient === true ? [DMP_MASKING_CODE.HIDDEN_FROM_PATIENT] : []),
    ...(masking.hiddenFromLegalRepresentatives === true ? [DMP_MASKING_CODE.HIDDEN_FROM_LEGAL_REPRESENTATIVES] : []),
  ];
}

export function documentEntryFromCda(header: CdaHeader, content: Buffer, options: DocumentEntryOptions): DocumentEntry {
  const problems: HeaderProblem[] = [];
  const problem = (location: string, rule: string, message: string): void => {
    problems.push({ location, rule, message });
  };
  const time = (ts: string, location: string): string | undefined => {
    const dtm = utcDtm(ts);
    if (dtm === undefined) problem(location, 'CDA_TIME', 'is not an HL7 TS time (YYYYMMDD[hhmm[ss]][±zzzz])');
    return dtm;
  };

  const classOfType = TYPE_TO_CLASS.get(`${header.code.codeSystem}|${header.code.code}`);
  if (classOfType === undefined) problem('/ClinicalDocument/code', 'XDS_CLASS_UNKNOWN', `the document type ${header.code.code} (code system ${header.code.codeSystem}) has no classCode in Passerelle's copy of ASS_X04-CorrespondanceType-Classe`);
  const formatCode = formatOf(header, problem);
  const patient = patientIds(header, problem);
  const practiceSettingCode = practiceSetting(header, problem);
  const [main] = header.serviceEvents;
  const creationTime = time(header.effectiveTime, '/ClinicalDocument/effectiveTime/@value');
  const serviceStartTime = main?.low === undefined ? undefined : time(main.low, '/ClinicalDocument/documentationOf[1]/serviceEvent/effectiveTime/low/@value');
  const serviceStopTime = main?.high === undefined ? undefined : time(main.high, '/ClinicalDocument/documentationOf[1]/serviceEvent/effectiveTime/high/@value');

  if (problems.length > 0 || classOfType === undefined || formatCode === undefined || patient === undefined || practiceSettingCode === undefined || creationTime === undefined) {
    throw new XdsMappingError(problems);
  }
  const confidentiality = header.confidentialityCode;
  return {
    entryUUID: options.entryUUID,
    uniqueId: header.id.extension === undefined ? header.id.root : `${header.id.root}^${header.id.extension}`,
    mimeType: CDA_MIME_TYPE,
    title: header.title,
    typeCode: codeOf(header.code),
    classCode: classOfType,
    formatCode,
    confidentialityCodes: [
      { code: confidentiality.code, codingScheme: confidentiality.codeSystem, displayName: confidentiality.displayName ?? HL7_CONFIDENTIALITY_LABEL[confidentiality.code] ?? confidentiality.code },
      ...maskingCodes(options.masking ?? {}),
    ],
    eventCodes: distinctCodes(header.serviceEvents.flatMap((e) => (e.code === undefined ? [] : [codeOf(e.code)]))),
    healthcareFacilityTypeCode: codeOf(header.healthcareFacilityCode),
    practiceSettingCode,
    creationTime,
    ...(serviceStartTime === undefined ? {} : { serviceStartTime }),
    ...(serviceStopTime === undefined ? {} : { serviceStopTime }),
    languageCode: header.languageCode,
    authors: header.authors.map((author) => ({
      person: personOf(author.assigned),
      institutions: author.assigned.organization === undefined ? [] : institutionOf(author.assigned.organization),
      roles: author.functionCode?.displayName === undefined ? [] : [author.functionCode.displayName],
      specialties: author.assigned.code === undefined ? [] : [formatCe(author.assigned.code)],
    })),
    legalAuthenticator: personOf(header.legalAuthenticator.assigned),
    patientId: patient.ins,
    sourcePatientId: patient.local ?? patient.ins,
    sourcePatientInfo: sourcePatientInfo(header, patient),
    hash: createHash('sha1').update(content).digest('hex'),
    size: content.length,
    ...(options.repositoryUniqueId === undefined ? {} : { repositoryUniqueId: options.repositoryUniqueId }),
    referenceIds: [],
  };
}

/** The submission set of `entries`: its patient and authors are those of the first entry (the CDA's). */
export function submissionSetFor(entries: readonly DocumentEntry[], options: SubmissionSetOptions): SubmissionSet {
  const [first] = entries;
  if (first === undefined) throw new RangeError('a submission set holds at least one document entry');
  return {
    entryUUID: options.entryUUID,
    uniqueId: options.uniqueId,
    sourceId: options.sourceId,
    submissionTime: formatDtm(options.submissionTime),
    contentTypeCode: options.contentTypeCode,
    patientId: first.patientId,
    authors: first.authors,
  };
}

/**
 * The registry objects of filing one CDA (ITI-41): the submission set, the document entry, the
 * HasMember between them and, for a replacement (TD2.1), the RPLC from the new entry to the old.
 * `header`, when the caller has already read it, saves reading the CDA twice.
 */
export function submissionOfCda(cda: Buffer, options: CdaSubmissionOptions, header: CdaHeader = readCdaHeader(cda)): SubmissionRequest {
  const entry = documentEntryFromCda(header, cda, options.document);
  const submissionSet = submissionSetFor([entry], options.submissionSet);
  const associations: Association[] = [hasMember(submissionSet.entryUUID, entry.entryUUID)];
  if (options.replaces !== undefined) associations.push(association(ASSOCIATION_TYPE.RPLC, entry.entryUUID, options.replaces.entryUUID));
  return { submissionSet, documentEntries: [entry], folders: [], associations };
}

/** HasMember from the submission set to an object submitted with it (ITI TF-3 §4.2.2.1.2: SubmissionSetStatus Original). */
export function hasMember(submissionSetEntryUUID: string, memberEntryUUID: string): Association {
  return association(ASSOCIATION_TYPE.HAS_MEMBER, submissionSetEntryUUID, memberEntryUUID, { [ASSOCIATION_SLOT.SUBMISSION_SET_STATUS]: [SUBMISSION_SET_STATUS.ORIGINAL] });
}

/**
 * An association whose id derives from what it links (a version-8 UUID of SHA-256), so that the
 * same submission always has the same associations and the mapping stays a pure function.
 */
export function association(type: string, sourceObject: string, targetObject: string, slots: Readonly<Record<string, readonly string[]>> = {}): Association {
  const bytes = createHash('sha256').update(`passerelle:association:${type}:${sourceObject}:${targetObject}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8 (RFC 9562 §5.8)
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  const id = `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, type, sourceObject, targetObject, slots };
}

const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-])?(\d{2})?(\d{2})?$/;

/**
 * An HL7 v3 TS as an XDS DTM in UTC (ITI TF-3 Table 4.2.3.1.7-2), at the precision it was given
 * without fractions: `20200327153500+0100` → `20200327143500`. A date stays a date; a time without
 * offset is taken as written. Undefined when `ts` is not a TS.
 */
export function utcDtm(ts: string): string | undefined {
  const m = TS.exec(ts);
  if (m === null) return undefined;
  const [, year, month, day, hour, minute, second, sign, offsetHours, offsetMinutes] = m;
  const local = [year, month, day, hour, minute, second].filter((p) => p !== undefined).join('');
  if ((sign === undefined) !== (offsetHours === undefined)) return undefined;
  if (hour === undefined || sign === undefined) return local;
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes ?? '0'));
  const utc = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute ?? '0') - offset, Number(second ?? '0')));
  return formatDtm(utc).slice(0, local.length);
}

function codeOf(value: CodedValue): Code {
  // XDS names every code (ITI TF-3 4.2.3.1.7); a CDA code without displayName is named by its code.
  return { code: value.code, codingScheme: value.codeSystem, displayName: value.displayName ?? value.code };
}

function distinctCodes(codes: readonly Code[]): Code[] {
  const seen = new Set<string>();
  return codes.filter((c) => {
    const key = `${c.codingScheme}|${c.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

type Problem = (location: string, rule: string, message: string) => void;

/** Level 1: by the body's media type (ASS_A12); level 3: by the first templateId ASS_A11 knows. */
function formatOf(header: CdaHeader, problem: Problem): Code | undefined {
  if (header.body.kind === 'nonXMLBody') {
    const format = FORMAT_BY_MEDIA_TYPE.get(header.body.mediaType);
    if (format === undefined) problem('/ClinicalDocument/component/nonXMLBody/text/@mediaType', 'XDS_FORMAT_UNKNOWN', `the media type ${header.body.mediaType} has no formatCode in ASS_A12 (a level-1 body is PDF or text)`);
    return format;
  }
  const format = header.templateIds.map((t) => FORMAT_BY_TEMPLATE.get(t.root)).find((f) => f !== undefined);
  if (format === undefined) problem('/ClinicalDocument/templateId', 'XDS_FORMAT_UNKNOWN', `none of the templateIds ${header.templateIds.map((t) => t.root).join(', ')} has a formatCode in Passerelle's copy of ASS_A11-CorresModeleCDA-XdsFormatCode`);
  return format;
}

interface PatientIds {
  readonly ins: Cx;
  readonly local?: Cx;
}

/** The INS (patientId, NH) and a local identifier (IPP, PI) of recordTarget/patientRole. */
function patientIds(header: CdaHeader, problem: Problem): PatientIds | undefined {
  const location = '/ClinicalDocument/recordTarget/patientRole/id';
  const insIds = header.patient.ids.filter((id) => INS_OIDS.includes(id.root));
  const [ins] = insIds;
  if (ins === undefined) {
    problem(location, 'XDS_PATIENT_WITHOUT_INS', `the patient has no INS (an id whose root is ${INS_OIDS.join(', ')}): the DMP files documents of patients identified by their INS only`);
    return undefined;
  }
  if (ins.extension === undefined) {
    problem(`${location}/@extension`, 'XDS_PATIENT_WITHOUT_INS', 'the INS identifier has no extension (the NIR or NIA)');
    return undefined;
  }
  const local = header.patient.ids.find((id) => !INS_OIDS.includes(id.root) && id.extension !== undefined);
  return {
    ins: { id: ins.extension, assigningAuthority: ins.root, identifierTypeCode: PATIENT_ID_TYPE.INS },
    ...(local?.extension === undefined ? {} : { local: { id: local.extension, assigningAuthority: local.root, identifierTypeCode: PATIENT_ID_TYPE.LOCAL } }),
  };
}

/** The main act's performer's cadre d'exercice (MAP), else the author's organization's. */
function practiceSetting(header: CdaHeader, problem: Problem): Code | undefined {
  const [main] = header.serviceEvents;
  const candidates = [...(main?.performers.map((p) => p.assigned) ?? []), ...header.authors.map((a) => a.assigned)];
  const code = candidates.map((a) => a.organization?.standardIndustryClassCode).find((c) => c !== undefined);
  if (code === undefined) problem('/ClinicalDocument/documentationOf[1]/serviceEvent/performer/assignedEntity/representedOrganization/standardIndustryClassCode', 'XDS_PRACTICE_SETTING_MISSING', 'neither the main act\'s performer nor an author has an organization with a standardIndustryClassCode (practiceSettingCode, JDV_J04)');
  return code === undefined ? undefined : codeOf(code);
}

/** The first name part with `qualifier`, else the first without any, else the first. */
function namePart(parts: readonly NamePart[], qualifier: string): string | undefined {
  return (parts.find((p) => p.qualifier === qualifier) ?? parts.find((p) => p.qualifier === undefined) ?? parts[0])?.value;
}

/** authorPerson or legalAuthenticator as XCN (french-specs §3.1). */
function personOf(assigned: CdaAssigned): Xcn {
  const { id, person, device } = assigned;
  const family = person === undefined ? undefined : namePart(person.family, 'CL');
  const given = person === undefined ? undefined : namePart(person.given, 'CL');
  const identifierTypeCode = id.root === ID_NAT_PS_OID ? PERSON_ID_TYPE.PROFESSIONAL : INS_OIDS.includes(id.root) ? PERSON_ID_TYPE.PATIENT : device !== undefined ? PERSON_ID_TYPE.DEVICE : undefined;
  const nameTypeCode = person !== undefined ? PERSON_NAME_TYPE.PERSON : device !== undefined ? PERSON_NAME_TYPE.SYSTEM : undefined;
  return {
    // An II without extension is its own identifier, with no assigning authority (ITI TF-3 4.2.3.1.7).
    ...(id.extension === undefined ? { id: id.root } : { id: id.extension, assigningAuthority: id.root }),
    ...(family === undefined ? {} : { family }),
    ...(given === undefined ? {} : { given }),
    ...(nameTypeCode === undefined ? {} : { nameTypeCode }),
    ...(identifierTypeCode === undefined ? {} : { identifierTypeCode }),
  };
}

/** authorInstitution as XON; XON.1 (the name) is required, so an unnamed organization gives none. */
function institutionOf(organization: NonNullable<CdaAssigned['organization']>): Xon[] {
  const { id, name } = organization;
  if (name === undefined) return [];
  return [{
    name,
    ...(id === undefined ? {} : id.extension === undefined ? { id: id.root } : { id: id.extension, assigningAuthority: id.root }),
    ...(id?.root === ID_NAT_STRUCT_OID && id.extension !== undefined ? { identifierTypeCode: ORGANIZATION_ID_TYPE.STRUCTURE } : {}),
  }];
}

/**
 * sourcePatientInfo (ITI TF-3 4.2.3.2.23): PID-3 both identifiers, PID-5 the birth name (family
 * and first given name of birth, type L), PID-7 the birth date, PID-8 the sex — all from recordTarget.
 */
function sourcePatientInfo(header: CdaHeader, ids: PatientIds): string[] {
  const { name, birthTime, gender } = header.patient;
  const family = namePart(name.family, 'BR') ?? '';
  const given = namePart(name.given, 'BR') ?? '';
  return [
    `PID-3|${formatCx(ids.ins)}`,
    ...(ids.local === undefined ? [] : [`PID-3|${formatCx(ids.local)}`]),
    `PID-5|${escapeHl7(family)}^${escapeHl7(given)}^^^^^L`,
    `PID-7|${/^\d{4,8}/.exec(birthTime)?.[0] ?? ''}`,
    `PID-8|${SEX[gender.code] ?? 'U'}`,
  ];
}
