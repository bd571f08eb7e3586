/**
 * The CI-SIS header (french-specs §1) from an act report, shared by every document type: patient
 * with the INS and its traits, professionals with their IdNat_PS, organisations with their
 * IdNat_Struct, the acts documented, consent and the encounter.
 */
import type { ActReport, Professional } from '../../domain/act-report.js';
import type { NgapActCode } from '../../domain/act.js';
import { ID_NAT_PS_OID, ID_NAT_STRUCT_OID } from '../../domain/identifiers.js';
import type { DocumentIdentity } from '../document-ids.js';
import type { AssignedProfessional, ClinicalDocument, Code, II, NamePart, Organization, Participant, Patient, ServiceEvent } from '../model.js';
import type { TlmCrTemplate, TlmDaTemplate } from '../templates.js';
import { dateOf, timestampOf } from '../time.js';
import { ADMINISTRATIVE_GENDER, CARE_TEAM_MEMBER_FUNCTION, CODE_SYSTEM, CONFIDENTIALITY, DOCUMENT_LANGUAGE, VIRTUAL_ENCOUNTER } from '../vocabulary.js';

export interface HeaderContext {
  readonly identity: DocumentIdentity;
  /** The document's own time (effectiveTime, author and legal authenticator times), as HL7 TS. */
  readonly time: string;
  readonly actCodes: readonly NgapActCode[];
}

export type Header = Omit<ClinicalDocument, 'body' | 'authors' | 'legalAuthenticator' | 'informationRecipients' | 'documentationOf' | 'inFulfillmentOf'>;

export function header(report: ActReport, template: TlmCrTemplate | TlmDaTemplate, context: HeaderContext): Header {
  const { identity } = context;
  return {
    templateIds: template.templateIds,
    id: identity.id,
    code: template.code,
    title: report.report.title,
    effectiveTime: context.time,
    confidentialityCode: { ...CONFIDENTIALITY[report.sharing.confidentiality], codeSystem: CODE_SYSTEM.CONFIDENTIALITY, codeSystemName: 'Confidentiality' },
    languageCode: DOCUMENT_LANGUAGE,
    setId: identity.setId,
    versionNumber: identity.versionNumber,
    recordTarget: patient(report.patient),
    custodian: organization(report.organization),
    participants: participants(report),
    ...(identity.replaces === undefined ? {} : { relatedDocument: { typeCode: 'RPLC' as const, parentId: identity.replaces.id } }),
    consent: { code: template.consentCode },
    encounter: {
      code: VIRTUAL_ENCOUNTER,
      effectiveTime: { low: timestampOf(report.act.start), high: timestampOf(report.act.end) },
      facility: { id: structId(report.organization.idNatStruct), code: report.organization.facilityType, name: report.organization.name },
    },
  };
}

const psId = (idNatPs: string): II => ({ root: ID_NAT_PS_OID, extension: idNatPs });
const structId = (idNatStruct: string): II => ({ root: ID_NAT_STRUCT_OID, extension: idNatStruct });

function patient(p: ActReport['patient']): Patient {
  const ids: II[] = [];
  if (p.ins !== undefined) ids.push({ root: p.ins.oid, extension: p.ins.value });
  for (const local of p.localIdentifiers ?? []) ids.push({ root: local.assigningAuthority, extension: local.value });
  // INS traits (SM-SCH): birth name BR, all birth given names, first birth given name BR; then the names in use, CL.
  const family: NamePart[] = [{ value: p.birthFamilyName, qualifier: 'BR' }];
  const given: NamePart[] = [{ value: p.birthGivenNames ?? p.firstBirthGivenName }, { value: p.firstBirthGivenName, qualifier: 'BR' }];
  if (p.usedFamilyName !== undefined) family.push({ value: p.usedFamilyName, qualifier: 'CL' });
  if (p.usedGivenName !== undefined) given.push({ value: p.usedGivenName, qualifier: 'CL' });
  return {
    ids,
    name: { family, given },
    administrativeGender: { ...ADMINISTRATIVE_GENDER[p.sex], codeSystem: CODE_SYSTEM.ADMINISTRATIVE_GENDER },
    birthTime: dateOf(p.birthDate),
    ...(p.birthPlaceCode === undefined ? {} : { birthPlaceCode: p.birthPlaceCode }),
  };
}

function organization(o: { readonly idNatStruct: string; readonly name: string; readonly practiceSetting?: Code }): Organization {
  return { id: structId(o.idNatStruct), name: o.name, ...(o.practiceSetting === undefined ? {} : { standardIndustryClassCode: o.practiceSetting }) };
}

/** A professional with the organisation they act for: their own, else the report's. */
export function professional(p: Professional, report: ActReport): AssignedProfessional {
  return {
    id: psId(p.idNatPs),
    code: p.specialty ?? p.profession,
    name: {
      ...(p.civility === undefined ? {} : { prefix: p.civility }),
      given: p.givenName === undefined ? [] : [{ value: p.givenName }],
      family: [{ value: p.familyName }],
      ...(p.title === undefined ? {} : { suffix: p.title }),
    },
    ...(p.mssanteAddress === undefined ? {} : { telecoms: [`mailto:${p.mssanteAddress}`] }),
    organization: organization(p.organization ?? report.organization),
  };
}

function participants(report: ActReport): Participant[] {
  const time = { low: timestampOf(report.act.start), high: timestampOf(report.act.end) };
  return (report.professionals.presentWithPatient ?? []).map((p) => ({ typeCode: 'PRF', functionCode: CARE_TEAM_MEMBER_FUNCTION, time, professional: professional(p, report) }));
}

/** The NGAP act as a coded value, labelled from the configured table. */
export function actCode(code: string, actCodes: readonly NgapActCode[], codeSystem: string): Code {
  return { code, displayName: actCodes.find((c) => c.code === code)?.label ?? code, codeSystem, codeSystemName: 'NGAP' };
}

/**
 * The acts documented (documentationOf/serviceEvent): the main act by the author, then each act a
 * professional present with the patient performed (TLS, TLD…), and each other telemedicine act of
 * actsPerformed. Acts outside the volet's NGAP list (a CCAM act…) cannot go in the header — the
 * volet schematron refuses them — and are listed in the body instead.
 */
export function serviceEvents(report: ActReport, template: TlmCrTemplate | TlmDaTemplate, actCodes: readonly NgapActCode[], mainPerformer: Professional, mainTime: { low: string; high?: string }): ServiceEvent[] {
  const events: ServiceEvent[] = [];
  const seen = new Set<string>();
  const add = (code: string, performer: Professional | undefined, effectiveTime: { low: string; high?: string }): void => {
    const key = `${code}|${performer?.idNatPs ?? ''}`;
    if (seen.has(key) || !template.serviceEventCodes.includes(code)) return;
    seen.add(key);
    events.push({ code: actCode(code, actCodes, template.serviceEventCodeSystem), effectiveTime, ...(performer === undefined ? {} : { performer: professional(performer, report) }) });
  };
  add(report.act.code, mainPerformer, mainTime);
  const actTime = { low: timestampOf(report.act.start), high: timestampOf(report.act.end) };
  for (const p of report.professionals.presentWithPatient ?? []) if (p.actCode !== undefined) add(p.actCode, p, actTime);
  const everyone = [report.professionals.author, report.professionals.legalAuthenticator, ...(report.professionals.requester === undefined ? [] : [report.professionals.requester]), ...(report.professionals.presentWithPatient ?? [])];
  for (const a of report.actsPerformed) {
    if (a.code.codeSystem !== template.serviceEventCodeSystem) continue;
    const performer = a.performerIdNatPs === undefined ? mainPerformer : everyone.find((p) => p.idNatPs === a.performerIdNatPs);
    add(a.code.code, performer, a.at === undefined ? actTime : { low: timestampOf(a.at) });
  }
  return events;
}
