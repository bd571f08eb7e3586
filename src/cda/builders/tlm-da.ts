/**
 * TLM-DA, the demande d'acte de télémédecine (LOINC 75496-0), a level-3 document written by the
 * requérant: the CI-SIS header, then the sections the volet requires (CI-SIS_TLM-DA_2022.01.sch):
 * Anamnèse et facteurs de risques holding Anamnèse (the reason for the request), and Traitements
 * with one FR-Traitement entry per current treatment, or one entry stating that none is known,
 * as in ExemplesCDA/TLM-DA_2022.01_TCG.xml.
 */
import type { ActReport, Treatment } from '../../domain/act-report.js';
import type { Violation } from '../../domain/errors.js';
import type { ClinicalDocument, MedicationEntry, Narrative, Section } from '../model.js';
import type { TlmDaTemplate } from '../templates.js';
import { dateOf, timestampOf } from '../time.js';
import { CODE_SYSTEM } from '../vocabulary.js';
import { header, professional, serviceEvents, type HeaderContext } from './header.js';

/** JDV_AbsentOrUnknownMedication_CISIS (1.2.250.1.213.1.1.5.664). */
const NO_KNOWN_MEDICATIONS = { code: 'no-known-medications', displayName: 'Pas de traitement médicamenteux connu', codeSystem: CODE_SYSTEM.ABSENT_OR_UNKNOWN };
const NO_MEDICATION_INFO = { code: 'no-medication-info', displayName: "Pas d'information sur les traitements médicamenteux", codeSystem: CODE_SYSTEM.ABSENT_OR_UNKNOWN };

export function tlmDaProblems(report: ActReport): Violation[] {
  const out: Violation[] = [];
  if (report.request === undefined) out.push({ pointer: '/request', rule: 'TLM_DA_REQUEST_MISSING', message: 'a TLM-DA describes the request: the report has no request', hint: 'Send request.reason (and request.treatments when known).' });
  if (report.professionals.requester === undefined) out.push({ pointer: '/professionals/requester', rule: 'TLM_DA_REQUESTER_MISSING', message: 'a TLM-DA is written by the requérant: the report names none', hint: 'Send professionals.requester.' });
  return out;
}

/** Call after tlmDaProblems returned nothing. */
export function tlmDa(report: ActReport, template: TlmDaTemplate, context: HeaderContext): ClinicalDocument {
  const requester = report.professionals.requester;
  const request = report.request;
  if (requester === undefined || request === undefined) throw new TypeError('tlmDa called on a report tlmDaProblems refuses');
  const requestTime = report.act.requestedAt === undefined ? context.time : timestampOf(report.act.requestedAt);
  const expert = report.professionals.author;
  return {
    ...header(report, template, context),
    authors: [{ time: requestTime, professional: professional(requester, report) }],
    informationRecipients: [{ professional: professional(expert, report) }],
    legalAuthenticator: { time: context.time, professional: professional(requester, report) },
    inFulfillmentOf: [],
    documentationOf: serviceEvents(report, template, context.actCodes, expert, { low: requestTime }),
    body: { kind: 'structured', sections: sections(template, request.reason, request.treatments, context) },
  };
}

function sections(template: TlmDaTemplate, reason: string, treatments: readonly Treatment[] | undefined, context: HeaderContext): Section[] {
  const { anamnesisAndRiskFactors, anamnesis, treatments: treatmentSection } = template.sections;
  // Sections and entries are identified within the document: its id as root, their own as extension.
  const localId = (extension: string): { root: string; extension: string } => ({ root: context.identity.id.root, extension });
  const entryId = (n: number): { root: string; extension: string } => localId(`TRT-${String(n)}`);
  let text: Narrative;
  let entries: MedicationEntry[];
  if (treatments === undefined || treatments.length === 0) {
    const absence = treatments === undefined ? NO_MEDICATION_INFO : NO_KNOWN_MEDICATIONS;
    text = { kind: 'table', head: ['Traitement'], rows: [[{ text: absence.displayName, id: 'TRT-1' }]] };
    entries = [{ templateIds: template.entries.treatment.templateIds, id: entryId(1), code: absence, product: { templateIds: template.entries.product.templateIds, code: { nullFlavor: 'NA' } }, narrativeId: 'TRT-1' }];
  } else {
    text = {
      kind: 'table',
      head: ['Médicament', 'Début', 'Fin', 'Posologie'],
      rows: treatments.map((t, i) => [{ text: t.description, id: `TRT-${String(i + 1)}` }, { text: t.start ?? '' }, { text: t.end ?? '' }, { text: t.dosage ?? '' }]),
    };
    entries = treatments.map((t, i) => treatmentEntry(template, t, `TRT-${String(i + 1)}`, entryId(i + 1)));
  }
  return [
    {
      templateIds: anamnesisAndRiskFactors.templateIds, id: localId('S-ANAMNESE-FDR'), code: anamnesisAndRiskFactors.code, title: anamnesisAndRiskFactors.title,
      sections: [{ templateIds: anamnesis.templateIds, id: localId('S-ANAMNESE'), code: anamnesis.code, title: anamnesis.title, text: { kind: 'paragraphs', paragraphs: reason.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '') } }],
    },
    { templateIds: treatmentSection.templateIds, id: localId('S-TRAITEMENTS'), code: treatmentSection.code, title: treatmentSection.title, text, entries },
  ];
}

function treatmentEntry(template: TlmDaTemplate, t: Treatment, narrativeId: string, id: { root: string; extension: string }): MedicationEntry {
  return {
    templateIds: template.entries.treatment.templateIds,
    id,
    ...(t.start === undefined && t.end === undefined ? {} : { effectiveTime: { ...(t.start === undefined ? {} : { low: dateOf(t.start) }), ...(t.end === undefined ? {} : { high: dateOf(t.end) }) } }),
    product: { templateIds: template.entries.product.templateIds, code: { ...(t.code ?? { nullFlavor: 'UNK' }), narrativeId }, name: t.description },
    narrativeId,
  };
}
