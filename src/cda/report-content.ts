/**
 * What a human reader of the compte rendu must find (source-documents.md: the traceability
 * elements of a telemedicine act): the report, the acts, the prescriptions, the identities of the
 * professionals, date and time, technical incidents and consent. One list of titled blocks,
 * rendered as a PDF (render-pdf.ts) or as plain text, so both carry the same content.
 */
import type { ActReport, Professional } from '../domain/act-report.js';
import type { NgapActCode } from '../domain/act.js';

export interface ContentBlock {
  readonly heading: string;
  readonly lines: readonly string[];
}

export interface ReportContent {
  readonly title: string;
  readonly blocks: readonly ContentBlock[];
}

const ACT_TYPE_LABEL: Record<ActReport['act']['type'], string> = {
  TELECONSULTATION: 'Téléconsultation',
  TELEEXPERTISE: 'Télé-expertise',
  TELESURVEILLANCE: 'Télésurveillance médicale',
  TELEASSISTANCE: 'Téléassistance médicale',
  REGULATION: 'Régulation médicale',
};
const MODALITY_LABEL: Record<ActReport['act']['modality'], string> = {
  VIDEO: 'vidéotransmission', AUDIO: 'audio seul', ASYNCHRONOUS: 'échange asynchrone', DEVICE_DATA: 'données transmises par dispositif',
};
const SEX_LABEL = { M: 'masculin', F: 'féminin', U: 'inconnu' } as const;
const PRESCRIPTION_LABEL: Record<ActReport['prescriptions'][number]['kind'], string> = {
  MEDICATION: 'Médicament', BIOLOGY: 'Biologie', IMAGING: 'Imagerie', DEVICE: 'Dispositif', CARE: 'Soins', OTHER: 'Autre',
};
const INCIDENT_LABEL: Record<ActReport['technicalIncidents'][number]['kind'], string> = {
  CONNECTION_LOST: 'Perte de connexion', AUDIO: 'Son', VIDEO: 'Image', DEVICE: 'Dispositif', DATA_TRANSFER: 'Transfert de données', OTHER: 'Autre',
};
const IMPACT_LABEL = { NONE: 'sans conséquence', ACT_DEGRADED: 'acte dégradé', ACT_INTERRUPTED: 'acte interrompu', ACT_RESCHEDULED: 'acte reprogrammé' } as const;
const CONSENT_METHOD_LABEL = { ORAL: 'oral', WRITTEN: 'écrit', ELECTRONIC: 'électronique' } as const;

/** `2026-11-19T09:00:00+01:00` → `19/11/2026 09:00 (UTC+01:00)`: the act's own local time. */
export function humanDateTime(dateTime: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(dateTime);
  if (m === null) return dateTime;
  const [, y, mo, d, h, mi, offset] = m as unknown as [string, string, string, string, string, string, string];
  return `${d}/${mo}/${y} ${h}:${mi} (UTC${offset === 'Z' ? '' : offset})`;
}

/** `1997-02-26` → `26/02/1997`. */
export function humanDate(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d ?? ''}/${m ?? ''}/${y ?? ''}`;
}

function person(p: Professional): string {
  const name = [p.title === undefined ? undefined : p.title === 'DR' ? 'Dr' : p.title === 'PR' ? 'Pr' : p.title, p.givenName, p.familyName].filter((x) => x !== undefined).join(' ');
  const specialty = p.specialty?.displayName ?? p.profession.displayName;
  const organization = p.organization === undefined ? '' : `, ${p.organization.name}`;
  return `${name} (${specialty}${organization}; IdNat ${p.idNatPs})`;
}

export function reportContent(report: ActReport, options: { readonly producedAt: string; readonly actCodes: readonly NgapActCode[] }): ReportContent {
  const { act, patient, professionals: pros } = report;
  const blocks: ContentBlock[] = [];
  const birthName = `${patient.birthFamilyName} ${patient.birthGivenNames ?? patient.firstBirthGivenName}`;
  const usedName = patient.usedFamilyName === undefined && patient.usedGivenName === undefined ? undefined : `${patient.usedFamilyName ?? patient.birthFamilyName} ${patient.usedGivenName ?? patient.firstBirthGivenName}`;
  blocks.push({
    heading: 'Patient',
    lines: [
      `Nom et prénoms de naissance : ${birthName}`,
      ...(usedName === undefined ? [] : [`Nom et prénom utilisés : ${usedName}`]),
      `Sexe : ${SEX_LABEL[patient.sex]} ; né(e) le ${humanDate(patient.birthDate)}${patient.birthPlaceCode === undefined ? '' : ` ; lieu de naissance (code INSEE) ${patient.birthPlaceCode}`}`,
      ...(patient.ins === undefined ? [] : [`INS : ${patient.ins.value} (${patient.ins.oid})`]),
    ],
  });
  const code = options.actCodes.find((c) => c.code === act.code);
  blocks.push({
    heading: 'Acte',
    lines: [
      `${ACT_TYPE_LABEL[act.type]}${act.teleExpertiseLevel === undefined ? '' : ` de niveau ${String(act.teleExpertiseLevel)}`} (${MODALITY_LABEL[act.modality]})`,
      `Code NGAP : ${act.code}${code === undefined ? '' : ` - ${code.label}`}`,
      `Début : ${humanDateTime(act.start)} ; fin : ${humanDateTime(act.end)}`,
      ...(act.requestedAt === undefined ? [] : [`Demandé le ${humanDateTime(act.requestedAt)}`]),
    ],
  });
  const pcp = pros.primaryCarePhysician;
  blocks.push({
    heading: 'Professionnels',
    lines: [
      `Auteur : ${person(pros.author)}`,
      `Responsable du document : ${person(pros.legalAuthenticator)}`,
      ...(pros.requester === undefined ? [] : [`Requérant : ${person(pros.requester)}`]),
      pcp.status === 'KNOWN' ? `Médecin traitant : ${person(pcp.professional)}` : `Médecin traitant : ${pcp.status === 'NONE' ? 'aucun' : 'inconnu'}${pcp.note === undefined ? '' : ` (${pcp.note})`}`,
      ...(pros.presentWithPatient ?? []).map((p) => `Présent auprès du patient : ${person(p)}${p.actCode === undefined ? '' : `, acte ${p.actCode}`}`),
    ],
  });
  blocks.push({ heading: 'Compte rendu', lines: reportText(report) });
  blocks.push({
    heading: 'Actes réalisés',
    lines: report.actsPerformed.length === 0 ? ['Aucun acte déclaré en plus de l’acte de télémédecine.'] : report.actsPerformed.map((a) => `${a.code.code} - ${a.code.displayName}${a.at === undefined ? '' : `, le ${humanDateTime(a.at)}`}${a.performerIdNatPs === undefined ? '' : `, par ${a.performerIdNatPs}`}`),
  });
  blocks.push({
    heading: 'Prescriptions',
    lines: report.prescriptions.length === 0 ? ['Aucune prescription.'] : report.prescriptions.map((p) => `${PRESCRIPTION_LABEL[p.kind]} : ${p.description}${p.code === undefined ? '' : ` (${p.code.code})`}`),
  });
  blocks.push({
    heading: 'Incidents techniques',
    lines: report.technicalIncidents.length === 0 ? ['Aucun incident technique.'] : report.technicalIncidents.map((i) => `${INCIDENT_LABEL[i.kind]}${i.at === undefined ? '' : ` (${humanDateTime(i.at)})`} : ${i.description}${i.impact === undefined ? '' : ` - ${IMPACT_LABEL[i.impact]}`}`),
  });
  const consent = report.consent;
  blocks.push({
    heading: 'Consentement',
    lines: [
      `Patient informé : ${consent.informed ? 'oui' : 'non'} ; consentement ${consent.given ? 'recueilli' : 'non recueilli'} (${CONSENT_METHOD_LABEL[consent.method]}) le ${humanDateTime(consent.at)}${consent.collectedByIdNatPs === undefined ? '' : ` par ${consent.collectedByIdNatPs}`}`,
    ],
  });
  blocks.push({ heading: 'Document', lines: [`Produit le ${humanDateTime(options.producedAt)} par ${report.organization.name}.`] });
  return { title: report.report.title, blocks };
}

function reportText(report: ActReport): string[] {
  const lines: string[] = [];
  if (report.report.text !== undefined) lines.push(...report.report.text.split(/\r\n|\r|\n/));
  for (const section of report.report.sections ?? []) {
    if (lines.length > 0) lines.push('');
    lines.push(`${section.title} :`, ...section.text.split(/\r\n|\r|\n/));
  }
  return lines.length === 0 ? ['Voir le document PDF joint.'] : lines;
}

/** The same content as plain text, for a text/plain level-1 body. */
export function renderText(content: ReportContent): string {
  return [content.title, '='.repeat(Math.min(content.title.length, 80)), '', ...content.blocks.flatMap((b) => [b.heading, '-'.repeat(b.heading.length), ...b.lines, ''])].join('\n');
}
