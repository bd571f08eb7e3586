/**
 * Which volet schematron a document is checked with, besides StrucMin (header rules): the kit's
 * pipeline applies the volet's `CI-SIS_<volet>.sch` to level-3 documents and to TLM-CR (level 1 by
 * design); other level-1 documents get StrucMin only. Volets are recognised by their templateId
 * (level 3) or document code; others can be named with --volet.
 */

export const STRUCMIN_SCHEMATRON = 'profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch';

interface VoletSignature {
  readonly volet: string;
  /** Volet templateId of a level-3 document (CI-SIS, ANS). */
  readonly templateId?: string;
  /** LOINC document code, for volets recognised by their code. */
  readonly code?: string;
}

/** Known volets, newest version of each (ANS TestContenuCDA 3.0). */
export const KNOWN_VOLETS: readonly VoletSignature[] = [
  /** Compte rendu d'acte de télémédecine: level 1, checked by its volet schematron all the same. */
  { volet: 'TLM-CR_2022.01', code: '85208-7' },
  /** Demande d'acte de télémédecine. */
  { volet: 'TLM-DA_2022.01', templateId: '1.2.250.1.213.1.1.1.38' },
  { volet: 'IPS-FR_2024.01', templateId: '1.2.250.1.213.1.1.1.51' },
  { volet: 'VSM_1.4_2022.01', templateId: '1.2.250.1.213.1.1.1.13' },
  { volet: 'EP-MED-DM_2024.01', templateId: '1.2.250.1.213.1.1.1.39' },
];

export function voletSchematron(volet: string): string {
  return `CI-SIS_${volet}.sch`;
}

/** The volet of a document from its templateIds and code, when known. */
export function detectVolet(templateIds: readonly string[], code: string | undefined): string | undefined {
  return KNOWN_VOLETS.find((v) => (v.templateId !== undefined && templateIds.includes(v.templateId)) || (v.code !== undefined && v.code === code))?.volet;
}
