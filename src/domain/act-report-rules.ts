/**
 * Business rules of an act report, checked after (and alongside) the JSON Schema. They read the
 * input defensively: a report whose shape is partly wrong still gets every rule that can apply,
 * so a client sees all its problems in one answer. Messages never echo patient data.
 */
import type { NgapActCode } from './act.js';
import type { Violation } from './errors.js';
import { idNatPsProblems, idNatStructProblems, isValidNir, nirKey, NIR_PATTERN } from './identifiers.js';

export interface RuleOptions {
  readonly now: Date;
  /** Tolerance for clocks of submitting systems that run ahead of ours. */
  readonly clockSkewMs: number;
  readonly maxPdfBytes: number;
  readonly ngapActCodes: readonly NgapActCode[];
}

type Obj = Readonly<Record<string, unknown>>;
const asObj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const asStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const asArr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const asTime = (v: unknown): number | undefined => {
  const s = asStr(v);
  if (s === undefined || !RFC3339.test(s)) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
};

export function checkActReportRules(input: unknown, options: RuleOptions): Violation[] {
  const report = asObj(input);
  if (report === undefined) return [];
  return [
    ...patientRules(asObj(report.patient)),
    ...identifierRules(report),
    ...actRules(report, options),
    ...consentRules(asObj(report.consent), asObj(report.act)),
    ...reportContentRules(asObj(report.report), options.maxPdfBytes),
    ...sharingRules(asObj(report.sharing), asObj(report.patient)),
  ];
}

function patientRules(patient: Obj | undefined): Violation[] {
  if (patient === undefined) return [];
  const out: Violation[] = [];
  const ins = asObj(patient.ins);
  const insValue = asStr(ins?.value);
  if (insValue !== undefined && NIR_PATTERN.test(insValue) && !isValidNir(insValue)) {
    out.push({
      pointer: '/patient/ins/value',
      rule: 'INS_KEY',
      message: `the INS key (last 2 digits) does not match the first 13 characters: expected ${String(nirKey(insValue.slice(0, 13))).padStart(2, '0')}`,
      hint: 'Key = 97 − (13-digit number mod 97), with 2A read as 19 and 2B as 18. Copy the INS from the INSi answer or the Vitale card, not by hand.',
    });
  }
  if (ins !== undefined) {
    for (const trait of ['birthGivenNames', 'birthPlaceCode'] as const) {
      if (patient[trait] === undefined) {
        out.push({
          pointer: `/patient/${trait}`,
          rule: 'INS_TRAIT_MISSING',
          message: `the INS trait "${trait}" is required when an INS is given`,
          hint: 'An INS always travels with its five traits: birth family name, birth given names, sex, birth date and birth place (COG).',
        });
      }
    }
  }
  const givenNames = asStr(patient.birthGivenNames);
  const first = asStr(patient.firstBirthGivenName);
  if (givenNames !== undefined && first !== undefined && givenNames.trim().split(/\s+/)[0] !== first.trim()) {
    out.push({
      pointer: '/patient/firstBirthGivenName',
      rule: 'INS_FIRST_GIVEN_NAME',
      message: 'the first birth given name must be the first name of the list of birth given names',
      hint: 'Both come from the INS traits (INSi): firstBirthGivenName is the first word of birthGivenNames.',
    });
  }
  if (insValue !== undefined && NIR_PATTERN.test(insValue)) out.push(...insConsistencyRules(insValue, patient));
  const locals = patient.localIdentifiers;
  if (ins === undefined && (!Array.isArray(locals) || locals.length === 0)) {
    out.push({
      pointer: '/patient',
      rule: 'PATIENT_IDENTIFIER_REQUIRED',
      message: 'the patient has neither an INS nor a local identifier',
      hint: 'The CDA needs at least one patient identifier: send patient.ins, or the local identifier of the patient in your system (IPP, régulation file number) in patient.localIdentifiers.',
    });
  }
  const status = asStr(patient.identityStatus);
  if ((status === 'QUALIFIED' || status === 'RECOVERED') && ins === undefined) {
    out.push({
      pointer: '/patient/ins',
      rule: 'INS_REQUIRED_FOR_STATUS',
      message: `an identity with status ${status} must carry its INS`,
      hint: 'A recovered or qualified identity has an INS returned by INSi; send it with its OID, or use status PROVISIONAL or VALIDATED.',
    });
  }
  return out;
}

/** The NIR encodes sex (1st digit) and year and month of birth (digits 2–5): they must agree with the traits. */
function insConsistencyRules(nir: string, patient: Obj): Violation[] {
  const out: Violation[] = [];
  const sexDigit = nir.charAt(0);
  const sex = asStr(patient.sex);
  const nirSex = '137'.includes(sexDigit) ? 'M' : '248'.includes(sexDigit) ? 'F' : undefined;
  if (nirSex !== undefined && (sex === 'M' || sex === 'F') && sex !== nirSex) {
    out.push({ pointer: '/patient/sex', rule: 'INS_SEX_MISMATCH', message: 'the sex does not match the first digit of the INS', hint: 'Take the sex from the INS traits returned by INSi.' });
  }
  const birthDate = asStr(patient.birthDate);
  const m = birthDate === undefined ? null : /^(\d{4})-(\d{2})-\d{2}$/.exec(birthDate);
  if (m !== null) {
    const month = Number(nir.slice(3, 5));
    const yearMatches = nir.slice(1, 3) === (m[1] ?? '').slice(2);
    // Months 20–42 and 50–99 encode an unknown or special month; only 01–12 can be compared.
    const monthMatches = month < 1 || month > 12 || month === Number(m[2]);
    if (!yearMatches || !monthMatches) {
      out.push({ pointer: '/patient/birthDate', rule: 'INS_BIRTH_DATE_MISMATCH', message: 'the birth date does not match the year and month encoded in the INS', hint: 'Take the birth date from the INS traits returned by INSi.' });
    }
  }
  return out;
}

function identifierRules(report: Obj): Violation[] {
  const out: Violation[] = [];
  const ps = (pointer: string, value: unknown): void => {
    const id = asStr(value);
    if (id !== undefined) for (const p of idNatPsProblems(id)) out.push({ pointer, rule: p.code, message: p.message, hint: p.hint });
  };
  const struct = (pointer: string, value: unknown): void => {
    const id = asStr(value);
    if (id !== undefined) for (const p of idNatStructProblems(id)) out.push({ pointer, rule: p.code, message: p.message, hint: p.hint });
  };
  const professional = (pointer: string, value: unknown): void => {
    const p = asObj(value);
    if (p === undefined) return;
    ps(`${pointer}/idNatPs`, p.idNatPs);
    struct(`${pointer}/organization/idNatStruct`, asObj(p.organization)?.idNatStruct);
  };
  const professionals = asObj(report.professionals);
  for (const role of ['author', 'legalAuthenticator', 'requester'] as const) professional(`/professionals/${role}`, professionals?.[role]);
  professional('/professionals/primaryCarePhysician/professional', asObj(professionals?.primaryCarePhysician)?.professional);
  asArr(professionals?.presentWithPatient).forEach((p, i) => { professional(`/professionals/presentWithPatient/${i}`, p); });
  struct('/organization/idNatStruct', asObj(report.organization)?.idNatStruct);
  asArr(report.actsPerformed).forEach((a, i) => { ps(`/actsPerformed/${i}/performerIdNatPs`, asObj(a)?.performerIdNatPs); });
  asArr(report.recipients).forEach((r, i) => { ps(`/recipients/${i}/idNatPs`, asObj(r)?.idNatPs); });
  ps('/consent/collectedByIdNatPs', asObj(report.consent)?.collectedByIdNatPs);
  return out;
}

function actRules(report: Obj, options: RuleOptions): Violation[] {
  const act = asObj(report.act);
  if (act === undefined) return [];
  const out: Violation[] = [];
  const start = asTime(act.start);
  const end = asTime(act.end);
  if (start !== undefined && end !== undefined && start > end) {
    out.push({ pointer: '/act/end', rule: 'ACT_END_BEFORE_START', message: 'the act ends before it starts', hint: 'Check the offsets: both times need their own UTC offset (e.g. +01:00 in winter, +02:00 in summer).' });
  }
  const latest = options.now.getTime() + options.clockSkewMs;
  for (const field of ['start', 'end', 'requestedAt'] as const) {
    const t = asTime(act[field]);
    if (t !== undefined && t > latest) {
      out.push({ pointer: `/act/${field}`, rule: 'ACT_IN_FUTURE', message: `the act's ${field} is in the future`, hint: 'A report describes an act that has happened; check the clock and the UTC offset of the sending system.' });
    }
  }
  const requestedAt = asTime(act.requestedAt);
  if (requestedAt !== undefined && start !== undefined && requestedAt > start) {
    out.push({ pointer: '/act/requestedAt', rule: 'ACT_REQUESTED_AFTER_START', message: 'the act was requested after it started', hint: 'requestedAt is when the requérant asked for the act; it precedes the start.' });
  }
  out.push(...ngapRules(report, act, options.ngapActCodes));
  return out;
}

function ngapRules(report: Obj, act: Obj, table: readonly NgapActCode[]): Violation[] {
  const out: Violation[] = [];
  const type = asStr(act.type);
  const code = asStr(act.code);
  const level = act.teleExpertiseLevel;
  const known = table.map((c) => c.code).join(', ');
  const entry = code === undefined ? undefined : table.find((c) => c.code === code);
  if (code !== undefined && entry === undefined) {
    out.push({ pointer: '/act/code', rule: 'NGAP_UNKNOWN_CODE', message: `"${code}" is not a telemedicine act code accepted by this gateway`, hint: `Accepted codes: ${known}.` });
  }
  if (entry !== undefined && type !== undefined && !(entry.actTypes as readonly string[]).includes(type)) {
    const fitting = table.filter((c) => (c.actTypes as readonly string[]).includes(type)).map((c) => c.code);
    out.push({ pointer: '/act/code', rule: 'NGAP_ACT_TYPE_MISMATCH', message: `the act code ${entry.code} does not document a ${type}`, hint: fitting.length > 0 ? `Codes for a ${type}: ${fitting.join(', ')}.` : `No configured code documents a ${type}.` });
  }
  if (type === 'TELEEXPERTISE') {
    if (level === undefined) {
      out.push({ pointer: '/act/teleExpertiseLevel', rule: 'TELEEXPERTISE_LEVEL_REQUIRED', message: 'a télé-expertise states its level (1 or 2)', hint: 'Level 1: a narrow question; level 2: a complex situation needing an in-depth study.' });
    } else if (entry?.teleExpertiseLevel !== undefined && entry.teleExpertiseLevel !== level) {
      out.push({ pointer: '/act/code', rule: 'NGAP_LEVEL_MISMATCH', message: `the act code ${entry.code} bills a level-${entry.teleExpertiseLevel} télé-expertise, but the level is ${JSON.stringify(level)}`, hint: 'Use TE1 for level 1 and TE2 for level 2.' });
    }
    if (asObj(report.professionals)?.requester === undefined) {
      out.push({ pointer: '/professionals/requester', rule: 'REQUESTER_REQUIRED', message: 'a télé-expertise names its requérant', hint: 'The requérant receives the report and is billed with the act; send professionals.requester.' });
    }
  } else if (level !== undefined) {
    out.push({ pointer: '/act/teleExpertiseLevel', rule: 'TELEEXPERTISE_LEVEL_NOT_APPLICABLE', message: 'only a télé-expertise has a level', hint: 'Remove teleExpertiseLevel, or set act.type to TELEEXPERTISE.' });
  }
  asArr(asObj(report.professionals)?.presentWithPatient).forEach((p, i) => {
    const actCode = asStr(asObj(p)?.actCode);
    if (actCode !== undefined && !table.some((c) => c.code === actCode)) {
      out.push({ pointer: `/professionals/presentWithPatient/${i}/actCode`, rule: 'NGAP_UNKNOWN_CODE', message: `"${actCode}" is not a telemedicine act code accepted by this gateway`, hint: `Accepted codes: ${known}.` });
    }
  });
  return out;
}

function consentRules(consent: Obj | undefined, act: Obj | undefined): Violation[] {
  if (consent === undefined) return [];
  const out: Violation[] = [];
  if (consent.informed === false) {
    out.push({ pointer: '/consent/informed', rule: 'CONSENT_NOT_INFORMED', message: 'the patient was not informed', hint: 'A telemedicine act needs free and informed consent (CSP R.6316-2); inform the patient before the act.' });
  }
  if (consent.given === false) {
    out.push({ pointer: '/consent/given', rule: 'CONSENT_NOT_GIVEN', message: 'the patient did not consent to the act', hint: 'An act the patient refused cannot be recorded as a telemedicine act.' });
  }
  const at = asTime(consent.at);
  const end = asTime(act?.end);
  if (at !== undefined && end !== undefined && at > end) {
    out.push({ pointer: '/consent/at', rule: 'CONSENT_AFTER_ACT', message: 'consent was recorded after the act ended', hint: 'Consent is collected before the act (avenant 6); send the time it was given.' });
  }
  return out;
}

function reportContentRules(report: Obj | undefined, maxPdfBytes: number): Violation[] {
  if (report === undefined) return [];
  if (report.pdf === undefined && report.text === undefined && report.sections === undefined) {
    return [{ pointer: '/report', rule: 'REPORT_CONTENT_MISSING', message: 'the report has no content', hint: 'Send at least one of report.pdf (base64), report.text or report.sections.' }];
  }
  const pdf = asStr(report.pdf);
  return pdf === undefined ? [] : pdfRules(pdf, maxPdfBytes);
}

function pdfRules(pdf: string, maxPdfBytes: number): Violation[] {
  const pointer = '/report/pdf';
  const padding = pdf.endsWith('==') ? 2 : pdf.endsWith('=') ? 1 : 0;
  const size = (pdf.length / 4) * 3 - padding;
  if (size > maxPdfBytes) {
    return [{ pointer, rule: 'PDF_TOO_LARGE', message: `the PDF is ${Math.floor(size)} bytes, more than the ${maxPdfBytes} allowed`, hint: 'Compress the PDF (images at 150 dpi are enough for a report) or ask the operator to raise maxPdfBytes.' }];
  }
  // Node's decoder silently skips characters outside the alphabet (and accepts base64url's - and
  // _): a decoded length short of what the text length promises reveals skipped characters.
  const bytes = Buffer.from(pdf, 'base64');
  if (pdf.length % 4 !== 0 || bytes.length !== size || pdf.includes('-') || pdf.includes('_')) {
    return [{ pointer, rule: 'PDF_NOT_BASE64', message: 'the PDF is not valid base64', hint: 'Encode the file with standard base64 (RFC 4648 §4), without line breaks or a data: prefix.' }];
  }
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
    return [{ pointer, rule: 'PDF_NOT_A_PDF', message: 'the decoded bytes are not a PDF (no %PDF- header)', hint: 'Send the PDF file itself, base64-encoded; other formats must be converted to PDF first.' }];
  }
  if (!bytes.subarray(Math.max(0, bytes.length - 1024)).toString('latin1').includes('%%EOF')) {
    return [{ pointer, rule: 'PDF_TRUNCATED', message: 'the PDF has no end-of-file marker: it looks truncated', hint: 'Check that the whole file was read before encoding it.' }];
  }
  return [];
}

function sharingRules(sharing: Obj | undefined, patient: Obj | undefined): Violation[] {
  if (sharing?.fileInDmp !== true) return [];
  const out: Violation[] = [];
  if (sharing.dmpOpposition === true) {
    out.push({ pointer: '/sharing/fileInDmp', rule: 'DMP_OPPOSITION_CONFLICT', message: 'filing in the DMP is asked although the patient objects to it', hint: 'Set fileInDmp to false when the patient objects; the report still goes to its MSSanté recipients.' });
  }
  if (patient !== undefined && patient.ins === undefined) {
    out.push({ pointer: '/patient/ins', rule: 'DMP_REQUIRES_INS', message: 'filing in the DMP requires the patient\'s INS', hint: 'Retrieve the INS with INSi, or set sharing.fileInDmp to false.' });
  } else if (patient !== undefined && patient.identityStatus !== undefined && patient.identityStatus !== 'QUALIFIED') {
    out.push({ pointer: '/patient/identityStatus', rule: 'DMP_REQUIRES_QUALIFIED_IDENTITY', message: 'filing in the DMP requires a qualified identity', hint: 'Since 2023 Mon espace santé is fed only with a qualified INS (INSi verification and identity check).' });
  }
  return out;
}
