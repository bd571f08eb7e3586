/**
 * TLM-CR, the compte rendu d'acte de télémédecine (LOINC 85208-7), a level-1 document: the CI-SIS
 * header and the report as a PDF (or plain text) in nonXMLBody, as in ExemplesCDA/TLM-CR_2022.01.xml.
 * Written by the professional who performed the act, sent to the requérant and the médecin traitant.
 */
import type { ActReport, Professional } from '../../domain/act-report.js';
import type { ClinicalDocument, NonXmlBody } from '../model.js';
import type { TlmCrTemplate } from '../templates.js';
import { timestampOf } from '../time.js';
import { header, professional, serviceEvents, type HeaderContext } from './header.js';

export function tlmCr(report: ActReport, template: TlmCrTemplate, context: HeaderContext, body: NonXmlBody): ClinicalDocument {
  const pros = report.professionals;
  return {
    ...header(report, template, context),
    authors: [{ time: context.time, professional: professional(pros.author, report) }],
    informationRecipients: recipients(report).map((p) => ({ professional: professional(p, report) })),
    legalAuthenticator: { time: context.time, professional: professional(pros.legalAuthenticator, report) },
    inFulfillmentOf: report.act.requestId === undefined ? [] : [report.act.requestId],
    documentationOf: serviceEvents(report, template, context.actCodes, pros.author, { low: timestampOf(report.act.start), high: timestampOf(report.act.end) }),
    body,
  };
}

/**
 * The requérant and the médecin traitant, once each. Other MSSanté recipients of the report carry
 * no profession, which intendedRecipient needs; they are addressed by the messaging, not here.
 */
function recipients(report: ActReport): Professional[] {
  const pros = report.professionals;
  const out: Professional[] = [];
  const add = (p: Professional | undefined): void => {
    if (p !== undefined && !out.some((q) => q.idNatPs === p.idNatPs)) out.push(p);
  };
  add(pros.requester);
  if (pros.primaryCarePhysician.status === 'KNOWN') add(pros.primaryCarePhysician.professional);
  return out;
}
