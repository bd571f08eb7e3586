/**
 * Telemedicine acts (CSP R.6316-1, décret 2010-1229) and the NGAP codes that bill them.
 */

export const ACT_TYPES = ['TELECONSULTATION', 'TELEEXPERTISE', 'TELESURVEILLANCE', 'TELEASSISTANCE', 'REGULATION'] as const;
export type ActType = (typeof ACT_TYPES)[number];

/** NGAP code system OID used in documentationOf/serviceEvent/code (Entete_TLM-CR.sch, Entete_TLM-DA.sch). */
export const NGAP_CODE_SYSTEM = '1.2.250.1.215.200.3.3';

export interface NgapActCode {
  readonly code: string;
  readonly label: string;
  /** Act types this code may document as the main act. */
  readonly actTypes: readonly ActType[];
  /** For télé-expertise codes: the level (1 or 2) the code bills. */
  readonly teleExpertiseLevel?: 1 | 2;
}

/**
 * Default table: the eight codes the TLM volets accept. TCG's and TLS's labels come from the
 * official TLM-CR example; the others are [UNVERIFIED] wordings of the NGAP, and the act-type
 * mapping is this project's reading of avenant 6 (docs/decisions.md). Replace it by configuration.
 */
export const DEFAULT_NGAP_ACT_CODES: readonly NgapActCode[] = [
  { code: 'TCG', label: "Consultation à distance réalisée entre un patient et un médecin généraliste ou spécialiste en médecine générale dit téléconsultant", actTypes: ['TELECONSULTATION', 'TELESURVEILLANCE', 'REGULATION'] },
  { code: 'TC', label: 'Consultation à distance réalisée entre un patient et un médecin spécialiste dit téléconsultant', actTypes: ['TELECONSULTATION', 'TELESURVEILLANCE', 'REGULATION'] },
  { code: 'TE1', label: 'Acte de téléexpertise de niveau 1 d’un médecin sollicité par un autre médecin', actTypes: ['TELEEXPERTISE'], teleExpertiseLevel: 1 },
  { code: 'TE2', label: 'Acte de téléexpertise de niveau 2 d’un médecin sollicité par un autre médecin', actTypes: ['TELEEXPERTISE'], teleExpertiseLevel: 2 },
  { code: 'TLS', label: "Téléconsultation d'accompagnement lors d'un soin", actTypes: ['TELEASSISTANCE'] },
  { code: 'TLD', label: 'Téléconsultation d’accompagnement au domicile du patient', actTypes: ['TELEASSISTANCE'] },
  { code: 'TLL', label: 'Téléconsultation d’accompagnement dans un lieu dédié', actTypes: ['TELEASSISTANCE'] },
  { code: 'TLM', label: 'Téléconsultation d’accompagnement par un pharmacien', actTypes: ['TELEASSISTANCE'] },
];
