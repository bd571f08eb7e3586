/**
 * OIDs and codes the CDA builders write, each with the specification it comes from. Document-type
 * data (templateIds of a volet, its LOINC code, its sections) lives in cda-templates/ instead.
 */

export const HL7_NS = 'urn:hl7-org:v3';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** CDA R2 typeId (HL7 CDA R2, POCD_HD000040), required by SM-SCH. */
export const CDA_TYPE_ID = { root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' } as const;

export const CODE_SYSTEM = {
  /** LOINC: document and section codes. */
  LOINC: '2.16.840.1.113883.6.1',
  /** HL7 AdministrativeGender (SM-SCH recordTarget). */
  ADMINISTRATIVE_GENDER: '2.16.840.1.113883.5.1',
  /** HL7 Confidentiality (JDV_HL7_Confidentiality_CISIS, 2.16.840.1.113883.1.11.10228). */
  CONFIDENTIALITY: '2.16.840.1.113883.5.25',
  /** HL7 ActCode: encompassingEncounter/code VR "virtuelle" (TLM-CR example). */
  ACT_CODE: '2.16.840.1.113883.5.4',
  /** TRE_R85 RolePlaying: 353 "Membre de l'équipe de soins" (JDV_J47, TLM-CR example). */
  ROLE_PLAYING: '1.2.250.1.213.1.6.1.107',
  /** IPS absent-or-unknown codes (JDV_AbsentOrUnknownMedication_CISIS, 1.2.250.1.213.1.1.5.664). */
  ABSENT_OR_UNKNOWN: '2.16.840.1.113883.5.1150.1',
} as const;

/** CDA header templateIds (SM-SCH; DC-GEN). */
export const TEMPLATE_ID = {
  /** HL7 France header conformance. */
  HL7_FRANCE: '2.16.840.1.113883.2.8.2.1',
  /** CI-SIS header ("structuration minimale"). */
  CISIS_HEADER: '1.2.250.1.213.1.1.1.1',
  /** IHE XDS-SD: every level-1 (nonXMLBody) document. */
  XDS_SD: '1.3.6.1.4.1.19376.1.2.20',
} as const;

export const ADMINISTRATIVE_GENDER = {
  M: { code: 'M', displayName: 'Masculin' },
  F: { code: 'F', displayName: 'Féminin' },
  U: { code: 'U', displayName: 'Inconnu' },
} as const;

export const CONFIDENTIALITY = {
  N: { code: 'N', displayName: 'Normal' },
  R: { code: 'R', displayName: 'Restreint' },
  V: { code: 'V', displayName: 'Très restreint' },
} as const;

/** The telemedicine encounter: always at a distance (TLM-CR and TLM-DA examples). */
export const VIRTUAL_ENCOUNTER = { code: 'VR', displayName: 'Virtuelle', codeSystem: CODE_SYSTEM.ACT_CODE } as const;

/** functionCode of a professional present with the patient (TLM-CR example: the accompanying nurse). */
export const CARE_TEAM_MEMBER_FUNCTION = { code: '353', displayName: "Membre de l'équipe de soins", codeSystem: CODE_SYSTEM.ROLE_PLAYING } as const;

/** The language of every document Passerelle writes (SM-SCH: pattern [a-z]{2}-[A-Z]{2}). */
export const DOCUMENT_LANGUAGE = 'fr-FR';
