/**
 * Built-in CI-SIS header rules: this project's own implementation of the "Structuration minimale"
 * rules the gateway relies on (french-specs §1, SM-SCH), and of the TLM volets' NGAP rule. They
 * need no kit; value sets (JDV_J07 document types) are checked when a source is given. Each rule
 * has a stable id and a message that names the element and the fix.
 */
import fontoxpath from 'fontoxpath';
import type { Document, Node } from 'slimdom';
import { DEFAULT_NGAP_ACT_CODES, NGAP_CODE_SYSTEM } from '../../domain/act.js';
import { INS_OIDS, isValidNir, NIR_PATTERN } from '../../domain/identifiers.js';
import { TEMPLATE_ID } from '../../cda/vocabulary.js';
import type { ValidationIssue } from '../issue.js';
import { whereOf } from '../xml-parse.js';

const NS = { cda: 'urn:hl7-org:v3' } as const;
const options = { namespaceResolver: (prefix: string) => (prefix === 'cda' ? NS.cda : null) };

/** LOINC codes of the telemedicine documents (TLM-CR, TLM-DA), whose serviceEvent carries an NGAP code. */
const TLM_DOCUMENT_CODES = ['85208-7', '75496-0'] as const;
/** The codes the TLM volets accept (Entete_TLM-CR.sch, Entete_TLM-DA.sch): the domain's default table. */
const NGAP_TELEMEDICINE_CODES: readonly string[] = DEFAULT_NGAP_ACT_CODES.map((c) => c.code);
const CONFIDENTIALITY_CODES = ['N', 'R', 'V', 'L', 'M', 'U'];
const LEVEL1_MEDIA_TYPES = ['application/pdf', 'text/plain'];
/** HL7 TS: a date, optionally a time to the second (and fraction), optionally an offset. */
const TS = /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,4})?)?)?)?)?)?([+-]\d{4})?$/;

export interface ValueSets {
  /** Codes of JDV_J07-XdsTypeCode-CISIS, the document types. */
  readonly documentTypes?: ReadonlySet<string>;
}

type Check = (doc: HeaderContext) => void;

class HeaderContext {
  readonly issues: ValidationIssue[] = [];
  constructor(readonly root: Node, readonly valueSets: ValueSets) {}

  nodes(xpath: string, from: Node = this.root): Node[] {
    return fontoxpath.evaluateXPathToNodes<Node>(xpath, from, null, null, options);
  }

  text(xpath: string, from: Node = this.root): string {
    return fontoxpath.evaluateXPathToString(xpath, from, null, null, options);
  }

  flag(rule: string, node: Node, message: string, hint: string, severity: ValidationIssue['severity'] = 'error'): void {
    this.issues.push({ source: 'builtin', severity, rule, message, hint, ...whereOf(node) });
  }

  /** Exactly one (or at least/at most) element at a path, flagged on the parent otherwise. */
  count(rule: string, xpath: string, min: number, max: number, what: string, hint: string, from: Node = this.root): Node[] {
    const found = this.nodes(xpath, from);
    if (found.length < min) this.flag(rule, from, `${what} is missing`, hint);
    else if (found.length > max) this.flag(rule, found[max] ?? from, `${what} appears ${found.length} times (at most ${max})`, hint);
    return found;
  }
}

const rules: readonly Check[] = [
  (c) => {
    const realms = c.nodes('cda:realmCode');
    if (realms.length !== 1 || c.text('cda:realmCode/@code') !== 'FR') c.flag('CISIS-HDR-REALM', realms[0] ?? c.root, 'realmCode must appear once with code="FR"', 'Write <realmCode code="FR"/> first in the header.');
  },
  (c) => {
    if (c.nodes("cda:typeId[@root='2.16.840.1.113883.1.3'][@extension='POCD_HD000040']").length !== 1) c.flag('CISIS-HDR-TYPEID', c.nodes('cda:typeId')[0] ?? c.root, 'typeId must be root 2.16.840.1.113883.1.3, extension POCD_HD000040', 'Write <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>.');
  },
  (c) => {
    const roots = c.nodes('cda:templateId/@root').map((n) => n.nodeValue ?? '');
    if (roots.filter((r) => r === TEMPLATE_ID.CISIS_HEADER).length !== 1) c.flag('CISIS-HDR-TEMPLATE-CISIS', c.root, `templateId ${TEMPLATE_ID.CISIS_HEADER} (CI-SIS header) must appear exactly once`, `Add <templateId root="${TEMPLATE_ID.CISIS_HEADER}"/>.`);
    if (roots.filter((r) => r === TEMPLATE_ID.HL7_FRANCE).length > 1) c.flag('CISIS-HDR-TEMPLATE-HL7FR', c.root, `templateId ${TEMPLATE_ID.HL7_FRANCE} (HL7 France) may appear only once`, 'Remove the duplicate.');
    const level1 = c.nodes('cda:component/cda:nonXMLBody').length > 0;
    if (level1) {
      const others = roots.filter((r) => r !== TEMPLATE_ID.CISIS_HEADER && r !== TEMPLATE_ID.HL7_FRANCE && r !== TEMPLATE_ID.XDS_SD);
      if (!roots.includes(TEMPLATE_ID.XDS_SD) || others.length > 0) c.flag('CISIS-HDR-TEMPLATE-LEVEL1', c.root, `a level-1 document (nonXMLBody) carries templateId ${TEMPLATE_ID.XDS_SD} instead of its volet's, and only the three templateIds ${TEMPLATE_ID.XDS_SD}, ${TEMPLATE_ID.HL7_FRANCE}, ${TEMPLATE_ID.CISIS_HEADER}`, `Use <templateId root="${TEMPLATE_ID.XDS_SD}"/> and remove ${others.join(', ') || 'nothing else'}.`);
    } else if (roots.filter((r) => r !== TEMPLATE_ID.CISIS_HEADER && r !== TEMPLATE_ID.HL7_FRANCE).length === 0) {
      c.flag('CISIS-HDR-TEMPLATE-VOLET', c.root, 'a structured document names its volet with a templateId', "Add the volet's templateId (e.g. 1.2.250.1.213.1.1.1.38 for TLM-DA).");
    }
  },
  (c) => {
    const ids = c.count('CISIS-HDR-ID', 'cda:id', 1, 1, 'the document id (ClinicalDocument/id)', 'Give the document one <id root="OID or UUID" [extension]/>.');
    if (ids.length === 1 && c.text('cda:id/@root') === '') c.flag('CISIS-HDR-ID', ids[0] ?? c.root, 'the document id has no @root', 'Set id/@root to an OID or a UUID.');
  },
  (c) => {
    const code = c.nodes('cda:code')[0];
    if (code === undefined) {
      c.flag('CISIS-HDR-CODE', c.root, 'the document type code (ClinicalDocument/code) is missing', 'Add <code code="…" codeSystem="2.16.840.1.113883.6.1" displayName="…"/> from JDV_J07.');
      return;
    }
    const missing = ['code', 'codeSystem', 'displayName'].filter((a) => c.text(`@${a}`, code) === '');
    if (missing.length > 0) c.flag('CISIS-HDR-CODE', code, `the document type code lacks @${missing.join(', @')}`, 'A document type code has @code, @codeSystem and @displayName, from JDV_J07.');
    const types = c.valueSets.documentTypes;
    const value = c.text('@code', code);
    if (types !== undefined && value !== '' && !types.has(value)) c.flag('CISIS-HDR-CODE-JDV_J07', code, `the document type code "${value}" is not in JDV_J07-XdsTypeCode-CISIS`, 'Use the code of the document type in JDV_J07 (e.g. 85208-7 for a compte rendu de télémédecine).');
  },
  (c) => {
    if (c.text('normalize-space(cda:title)') === '') c.flag('CISIS-HDR-TITLE', c.nodes('cda:title')[0] ?? c.root, 'the document title is missing or empty', 'Add <title>…</title> after code.');
  },
  (c) => {
    const value = c.text('cda:effectiveTime/@value');
    if (!TS.test(value) || value.length < 8) c.flag('CISIS-HDR-EFFECTIVE-TIME', c.nodes('cda:effectiveTime')[0] ?? c.root, value === '' ? 'the document date (effectiveTime/@value) is missing' : `the document date "${value}" is not an HL7 timestamp`, 'Write the creation time as yyyyMMddHHmmss±hhmm, e.g. 20261120142500+0100.');
    else if (!/[+-]\d{4}$/.test(value) && value.length > 8) c.flag('CISIS-HDR-EFFECTIVE-TIME-TZ', c.nodes('cda:effectiveTime')[0] ?? c.root, `the document time "${value}" has no UTC offset`, 'Add the offset (+0100 in winter, +0200 in summer in metropolitan France).', 'warning');
  },
  (c) => {
    const node = c.nodes('cda:confidentialityCode')[0];
    const code = c.text('cda:confidentialityCode/@code');
    if (node === undefined || !CONFIDENTIALITY_CODES.includes(code) || c.text('cda:confidentialityCode/@codeSystem') !== '2.16.840.1.113883.5.25') c.flag('CISIS-HDR-CONFIDENTIALITY', node ?? c.root, `confidentialityCode must be one of ${CONFIDENTIALITY_CODES.join(', ')} in code system 2.16.840.1.113883.5.25${node === undefined ? '' : ` (found "${code}")`}`, 'Use N (normal) unless the document is restricted (R) or very restricted (V); DMP masking goes in XDS metadata, not here.');
  },
  (c) => {
    const code = c.text('cda:languageCode/@code');
    if (!/^[a-z]{2}-[A-Z]{2}$/.test(code)) c.flag('CISIS-HDR-LANGUAGE', c.nodes('cda:languageCode')[0] ?? c.root, code === '' ? 'languageCode is missing' : `languageCode "${code}" is not of the form ll-CC`, 'Write <languageCode code="fr-FR"/>.');
  },
  (c) => {
    if (c.text('cda:setId/@root') === '') c.flag('CISIS-HDR-SETID', c.nodes('cda:setId')[0] ?? c.root, 'setId (with @root) is missing; it is mandatory in France', 'Add <setId root="…"/>, shared by every version of the document.');
    if (!/^[1-9]\d*$/.test(c.text('cda:versionNumber/@value'))) c.flag('CISIS-HDR-VERSION', c.nodes('cda:versionNumber')[0] ?? c.root, 'versionNumber (a positive integer) is missing or invalid', 'Add <versionNumber value="1"/>, incremented by each replacing version.');
  },
  (c) => {
    const targets = c.count('CISIS-HDR-RECORD-TARGET', 'cda:recordTarget/cda:patientRole', 1, 1, 'the patient (recordTarget/patientRole)', 'A document concerns exactly one patient.');
    const role = targets[0];
    if (role === undefined) return;
    if (c.nodes('cda:id[@root]', role).length === 0) c.flag('CISIS-HDR-PATIENT-ID', role, 'the patient has no identifier (patientRole/id with @root)', 'Give the INS and/or the local IPP.');
    const patient = c.nodes('cda:patient', role)[0];
    if (patient === undefined) {
      c.flag('CISIS-HDR-PATIENT', role, 'patientRole/patient is missing', 'Give the patient name, sex and birth date.');
      return;
    }
    if (c.nodes('cda:name/cda:family', patient).length === 0 || c.nodes('cda:name/cda:given', patient).length === 0) c.flag('CISIS-HDR-PATIENT-NAME', patient, 'the patient name needs a family and a given name', 'Add name/family and name/given.');
    if (c.text('cda:administrativeGenderCode/@code', patient) === '') c.flag('CISIS-HDR-PATIENT-SEX', patient, 'the patient sex (administrativeGenderCode/@code) is missing', 'Add <administrativeGenderCode code="F|M|U" codeSystem="2.16.840.1.113883.5.1"/>.');
    const birth = c.text('cda:birthTime/@value', patient);
    if (birth === '' || !TS.test(birth)) c.flag('CISIS-HDR-PATIENT-BIRTHTIME', c.nodes('cda:birthTime', patient)[0] ?? patient, birth === '' ? 'the patient birth date (birthTime/@value) is missing' : `the birth date "${birth}" is not an HL7 timestamp`, 'Write it as yyyyMMdd, e.g. 19790328.');
    const ins = c.nodes('cda:id', role).find((id) => INS_OIDS.includes(c.text('@root', id)));
    if (ins !== undefined) {
      const value = c.text('@extension', ins);
      if (!NIR_PATTERN.test(value) || !isValidNir(value)) c.flag('CISIS-HDR-INS-KEY', ins, 'the INS (15 characters with its key) is malformed or its key does not match', 'Copy the INS from the INSi answer.');
      const traits: [string, string][] = [
        ["cda:name/cda:family[@qualifier='BR']", 'birth family name (family qualifier="BR")'],
        ["cda:name/cda:given[@qualifier='BR']", 'first birth given name (given qualifier="BR")'],
        ['cda:name/cda:given[not(@qualifier)]', 'birth given names (given without qualifier)'],
        ['cda:birthTime/@value', 'birth date'],
        ['cda:birthplace/cda:place/cda:addr/cda:county', 'birth place COG (birthplace/place/addr/county)'],
        ['cda:administrativeGenderCode/@code', 'sex'],
      ];
      const missing = traits.filter(([xpath]) => c.nodes(xpath, patient).length === 0).map(([, name]) => name);
      if (missing.length > 0) c.flag('CISIS-HDR-INS-TRAITS', patient, `with an INS, every INS trait is required; missing: ${missing.join('; ')}`, 'Copy the traits returned by INSi with the INS.');
    }
  },
  (c) => {
    const authors = c.count('CISIS-HDR-AUTHOR', 'cda:author', 1, Infinity, 'the author', 'Add author with time, assignedAuthor/id (IdNat_PS) and assignedPerson/name.');
    for (const author of authors) {
      if (c.text('cda:time/@value', author) === '' || c.text('cda:assignedAuthor/cda:id/@root', author) === '') c.flag('CISIS-HDR-AUTHOR', author, 'an author needs time/@value and assignedAuthor/id', 'Add them.');
      else if (c.nodes('cda:assignedAuthor/cda:assignedPerson/cda:name/cda:family | cda:assignedAuthor/cda:assignedAuthoringDevice/cda:softwareName', author).length === 0) c.flag('CISIS-HDR-AUTHOR', author, 'an author is a person with a family name, or a device with a software name', 'Add assignedPerson/name/family or assignedAuthoringDevice.');
    }
  },
  (c) => {
    c.count('CISIS-HDR-CUSTODIAN', 'cda:custodian/cda:assignedCustodian/cda:representedCustodianOrganization/cda:id', 1, 1, 'the custodian organisation id (custodian/…/representedCustodianOrganization/id)', 'Name the organisation that keeps the document, by its IdNat_Struct.');
  },
  (c) => {
    const legal = c.count('CISIS-HDR-LEGAL-AUTHENTICATOR', 'cda:legalAuthenticator', 1, 1, 'the legal authenticator (legalAuthenticator)', 'Add legalAuthenticator with time, signatureCode code="S" and assignedEntity (id, assignedPerson/name).')[0];
    if (legal === undefined) return;
    const missing = [['cda:time/@value', 'time'], ["cda:signatureCode[@code='S']", 'signatureCode code="S"'], ['cda:assignedEntity/cda:id/@root', 'assignedEntity/id'], ['cda:assignedEntity/cda:assignedPerson/cda:name/cda:family', 'assignedPerson/name/family']].filter(([x = '']) => c.nodes(x, legal).length === 0).map(([, n]) => n);
    if (missing.length > 0) c.flag('CISIS-HDR-LEGAL-AUTHENTICATOR', legal, `legalAuthenticator lacks ${missing.join(', ')}`, 'The legal authenticator is the professional responsible for the document.');
  },
  (c) => {
    const events = c.nodes('cda:documentationOf/cda:serviceEvent');
    if (events.length === 0) {
      c.flag('CISIS-HDR-SERVICE-EVENT', c.root, 'documentationOf/serviceEvent (the documented act) is missing', 'Add at least one documentationOf/serviceEvent with effectiveTime/low.');
      return;
    }
    const main = events[0];
    if (main !== undefined && (c.text('cda:effectiveTime/cda:low/@value', main) === '' || c.nodes("cda:performer[@typeCode='PRF']/cda:assignedEntity/cda:id", main).length === 0)) c.flag('CISIS-HDR-SERVICE-EVENT', main, 'the main act (first serviceEvent) needs effectiveTime/low and a performer typeCode="PRF" with assignedEntity/id', 'Add them.');
    if ((TLM_DOCUMENT_CODES as readonly string[]).includes(c.text('cda:code/@code'))) {
      for (const event of events) {
        const code = c.text('cda:code/@code', event);
        if (!NGAP_TELEMEDICINE_CODES.includes(code) || c.text('cda:code/@codeSystem', event) !== NGAP_CODE_SYSTEM) c.flag('CISIS-TLM-NGAP', c.nodes('cda:code', event)[0] ?? event, `a telemedicine document documents NGAP telemedicine acts: "${code}" is not one of ${NGAP_TELEMEDICINE_CODES.join(', ')} (code system ${NGAP_CODE_SYSTEM})`, 'Use the NGAP code billed for the act, e.g. TCG for a téléconsultation by a general practitioner.');
      }
    }
  },
  (c) => {
    const encounter = c.count('CISIS-HDR-COMPONENT-OF', 'cda:componentOf/cda:encompassingEncounter', 1, 1, 'componentOf/encompassingEncounter', 'Add the encounter with effectiveTime and location/healthCareFacility/code.')[0];
    if (encounter === undefined) return;
    if (c.nodes('cda:effectiveTime', encounter).length === 0 || c.text('cda:location/cda:healthCareFacility/cda:code/@code', encounter) === '') c.flag('CISIS-HDR-COMPONENT-OF', encounter, 'encompassingEncounter needs effectiveTime and location/healthCareFacility/code', 'The facility code comes from JDV_J02 (e.g. SA01).');
  },
  (c) => {
    c.count('CISIS-HDR-COMPONENT', 'cda:component', 1, 1, 'the document body (component)', 'A document has exactly one component: nonXMLBody (level 1) or structuredBody (level 3).');
    const text = c.nodes('cda:component/cda:nonXMLBody/cda:text')[0];
    if (c.nodes('cda:component/cda:nonXMLBody').length > 0 && text === undefined) c.flag('CISIS-BODY-LEVEL1', c.root, 'nonXMLBody has no text', 'Put the base64 PDF or text in nonXMLBody/text.');
    if (text === undefined) return;
    const mediaType = c.text('@mediaType', text);
    if (!LEVEL1_MEDIA_TYPES.includes(mediaType)) c.flag('CISIS-BODY-MEDIA-TYPE', text, `nonXMLBody/text/@mediaType "${mediaType}" is not accepted: only ${LEVEL1_MEDIA_TYPES.join(' and ')}`, 'Convert images to PDF (PDF/A-1) and send application/pdf.');
    if (c.text('@representation', text) !== 'B64' || c.text('normalize-space(.)', text) === '') c.flag('CISIS-BODY-LEVEL1', text, 'nonXMLBody/text must hold base64 content with representation="B64"', 'Encode the PDF or text in base64.');
  },
];

/** Runs every built-in rule on a document whose root should be a CDA ClinicalDocument. */
export function checkHeader(document: Document, valueSets: ValueSets = {}): ValidationIssue[] {
  const root = document.documentElement;
  if (root === null || root.namespaceURI !== NS.cda || root.localName !== 'ClinicalDocument') {
    return [{ source: 'builtin', severity: 'error', rule: 'CISIS-ROOT', message: `the root element is ${root === null ? 'missing' : `{${root.namespaceURI ?? ''}}${root.localName}`}, not {urn:hl7-org:v3}ClinicalDocument`, hint: 'Validate a CDA R2 document (a signed one has ds:Signature around it: validate the ClinicalDocument inside).' }];
  }
  const context = new HeaderContext(root, valueSets);
  for (const rule of rules) rule(context);
  return context.issues;
}
