/**
 * Where each field of an act report must appear in the built document, as XPath assertions on
 * the output (french-specs §1–2, the TLM-CR and TLM-DA examples). Returns what is missing, so a
 * failure names every misplaced field at once.
 */
import fontoxpath from 'fontoxpath';
import type { Node } from 'slimdom';
import type { BuiltDocument } from '../../src/cda/build-document.js';
import type { ActReport, Professional } from '../../src/domain/act-report.js';
import { parseXml } from '../../src/validation/xml-parse.js';

const options = { namespaceResolver: (prefix: string) => (prefix === 'cda' ? 'urn:hl7-org:v3' : null) };
const ts = (dateTime: string): string => dateTime.replace(/[-:T]/g, '').replace(/Z$/, '+0000').replace(/\.\d+/, '');

export function misplacedFields(report: ActReport, built: BuiltDocument): string[] {
  const root = parseXml(built.xml.toString('utf8'), 'built.xml').documentElement as unknown as Node;
  const missing: string[] = [];
  const expectXPath = (label: string, xpath: string, variables: Record<string, unknown> = {}): void => {
    if (!fontoxpath.evaluateXPathToBoolean(xpath, root, null, variables, options)) missing.push(`${label}: ${xpath} ${JSON.stringify(variables)}`);
  };
  const professional = (label: string, path: string, p: Professional): void => {
    expectXPath(`${label} id`, `${path}/cda:id[@root = '1.2.250.1.71.4.2.1' and @extension = $v]`, { v: p.idNatPs });
    expectXPath(`${label} profession`, `${path}/cda:code/@code = $v`, { v: (p.specialty ?? p.profession).code });
    expectXPath(`${label} family name`, `${path}/*/cda:name/cda:family = $v`, { v: p.familyName });
    if (p.givenName !== undefined) expectXPath(`${label} given name`, `${path}/*/cda:name/cda:given = $v`, { v: p.givenName });
    if (p.title !== undefined) expectXPath(`${label} title`, `${path}/*/cda:name/cda:suffix = $v`, { v: p.title });
    if (p.civility !== undefined) expectXPath(`${label} civility`, `${path}/*/cda:name/cda:prefix = $v`, { v: p.civility });
  };

  const doc = '/cda:ClinicalDocument';
  expectXPath('title', `${doc}/cda:title = $v`, { v: report.report.title });
  expectXPath('confidentiality', `${doc}/cda:confidentialityCode/@code = $v`, { v: report.sharing.confidentiality });
  expectXPath('document id', `${doc}/cda:id/@root = $v`, { v: built.id.root });
  expectXPath('set id and version', `${doc}/cda:setId/@root = $s and ${doc}/cda:versionNumber/@value = $n`, { s: built.setId.root, n: String(built.versionNumber) });

  const patient = report.patient;
  const role = `${doc}/cda:recordTarget/cda:patientRole`;
  if (patient.ins !== undefined) expectXPath('INS', `${role}/cda:id[@root = $r and @extension = $e]`, { r: patient.ins.oid, e: patient.ins.value });
  for (const local of patient.localIdentifiers ?? []) expectXPath('local identifier', `${role}/cda:id[@root = $r and @extension = $e]`, { r: local.assigningAuthority, e: local.value });
  const name = `${role}/cda:patient/cda:name`;
  expectXPath('birth family name', `${name}/cda:family[@qualifier = 'BR'] = $v`, { v: patient.birthFamilyName });
  expectXPath('first birth given name', `${name}/cda:given[@qualifier = 'BR'] = $v`, { v: patient.firstBirthGivenName });
  expectXPath('birth given names', `${name}/cda:given[not(@qualifier)] = $v`, { v: patient.birthGivenNames ?? patient.firstBirthGivenName });
  if (patient.usedFamilyName !== undefined) expectXPath('used family name', `${name}/cda:family[@qualifier = 'CL'] = $v`, { v: patient.usedFamilyName });
  if (patient.usedGivenName !== undefined) expectXPath('used given name', `${name}/cda:given[@qualifier = 'CL'] = $v`, { v: patient.usedGivenName });
  expectXPath('sex', `${role}/cda:patient/cda:administrativeGenderCode/@code = $v`, { v: patient.sex });
  expectXPath('birth date', `${role}/cda:patient/cda:birthTime/@value = $v`, { v: patient.birthDate.replaceAll('-', '') });
  if (patient.birthPlaceCode !== undefined) expectXPath('birth place', `${role}/cda:patient/cda:birthplace/cda:place/cda:addr/cda:county = $v`, { v: patient.birthPlaceCode });

  const pros = report.professionals;
  const writer = built.type === 'tlm-da' ? pros.requester : pros.author;
  if (writer !== undefined) {
    professional('author', `${doc}/cda:author/cda:assignedAuthor`, writer);
    professional('legal authenticator', `${doc}/cda:legalAuthenticator/cda:assignedEntity`, built.type === 'tlm-da' ? writer : pros.legalAuthenticator);
  }
  expectXPath('legal authenticator signature', `${doc}/cda:legalAuthenticator/cda:signatureCode/@code = 'S'`);
  expectXPath('custodian', `${doc}/cda:custodian/cda:assignedCustodian/cda:representedCustodianOrganization/cda:id/@extension = $v`, { v: report.organization.idNatStruct });
  expectXPath('organisation of the author', `${doc}/cda:author/cda:assignedAuthor/cda:representedOrganization/cda:id/@extension = $v`, { v: (writer?.organization ?? report.organization).idNatStruct });

  const main = `${doc}/cda:documentationOf/cda:serviceEvent[cda:code/@code = $code and cda:code/@codeSystem = '1.2.250.1.215.200.3.3']`;
  expectXPath('main act', `exists(${main}[cda:performer/cda:assignedEntity/cda:id/@extension = $ps])`, { code: report.act.code, ps: pros.author.idNatPs });
  if (built.type === 'tlm-cr') expectXPath('main act times', `exists(${main}[cda:effectiveTime/cda:low/@value = $low and cda:effectiveTime/cda:high/@value = $high])`, { code: report.act.code, low: ts(report.act.start), high: ts(report.act.end) });
  const encounter = `${doc}/cda:componentOf/cda:encompassingEncounter`;
  expectXPath('encounter times', `${encounter}/cda:effectiveTime/cda:low/@value = $low and ${encounter}/cda:effectiveTime/cda:high/@value = $high`, { low: ts(report.act.start), high: ts(report.act.end) });
  expectXPath('facility type', `${encounter}/cda:location/cda:healthCareFacility/cda:code/@code = $v`, { v: report.organization.facilityType.code });
  expectXPath('consent', `${doc}/cda:authorization/cda:consent/cda:statusCode/@code = 'completed'`);
  for (const p of pros.presentWithPatient ?? []) {
    expectXPath('professional present with the patient', `${doc}/cda:participant[@typeCode = 'PRF']/cda:associatedEntity/cda:id/@extension = $v`, { v: p.idNatPs });
    if (p.actCode !== undefined) expectXPath('act of a professional present', `exists(${doc}/cda:documentationOf/cda:serviceEvent[cda:code/@code = $c][cda:performer/cda:assignedEntity/cda:id/@extension = $v])`, { c: p.actCode, v: p.idNatPs });
  }

  if (built.type === 'tlm-cr') {
    const recipients = `${doc}/cda:informationRecipient/cda:intendedRecipient/cda:id/@extension`;
    if (pros.requester !== undefined) expectXPath('requérant', `${recipients} = $v`, { v: pros.requester.idNatPs });
    if (pros.primaryCarePhysician.status === 'KNOWN') expectXPath('médecin traitant', `${recipients} = $v`, { v: pros.primaryCarePhysician.professional.idNatPs });
    if (report.act.requestId !== undefined) expectXPath('request', `${doc}/cda:inFulfillmentOf/cda:order/cda:id[@root = $r and @extension = $e]`, { r: report.act.requestId.root, e: report.act.requestId.extension ?? '' });
    const replaced = report.replaces;
    if (replaced !== undefined && 'documentId' in replaced) {
      expectXPath('replaced document', `${doc}/cda:relatedDocument[@typeCode = 'RPLC']/cda:parentDocument/cda:id/@root = $v`, { v: replaced.documentId.root });
      expectXPath('set of the replaced document', `${doc}/cda:setId/@root = $s and ${doc}/cda:versionNumber/@value = $n`, { s: replaced.setId.root, n: String(replaced.versionNumber + 1) });
    }
    expectXPath('level-1 body', `${doc}/cda:component/cda:nonXMLBody/cda:text[@representation = 'B64'][@mediaType = ('application/pdf', 'text/plain')]`);
  } else {
    const sections = `${doc}/cda:component/cda:structuredBody/cda:component/cda:section`;
    for (const line of (report.request?.reason ?? '').split('\n').filter((l) => l.trim() !== '')) {
      expectXPath('reason for the request', `${sections}[cda:templateId/@root = '1.2.250.1.213.1.1.2.68']/cda:component/cda:section[cda:templateId/@root = '1.2.250.1.213.1.1.2.69']/cda:text/cda:paragraph = $v`, { v: line });
    }
    const treatments = report.request?.treatments ?? [];
    const entries = `${sections}[cda:templateId/@root = '1.2.250.1.213.1.1.2.143']/cda:entry/cda:substanceAdministration`;
    expectXPath('treatment entries', `count(${entries}) = $n`, { n: Math.max(1, treatments.length) });
    for (const t of treatments) {
      if (t.code !== undefined) expectXPath('treatment code', `${entries}/cda:consumable/cda:manufacturedProduct/cda:manufacturedMaterial/cda:code/@code = $v`, { v: t.code.code });
      expectXPath('treatment', `${entries}/cda:consumable/cda:manufacturedProduct/cda:manufacturedMaterial/cda:name = $v`, { v: t.description });
    }
  }
  return missing;
}
