/**
 * The one CDA serializer: the typed model to UTF-8 bytes, elements in the order CDA.xsd requires,
 * with xmlbuilder2 escaping every text and attribute.
 *
 * A level-1 body can be tens of megabytes of base64. It is not put through the XML builder: the
 * builder writes a marker where it goes and the base64 is encoded straight into the output buffer,
 * in chunks, so that a 20 MB PDF costs its base64 once instead of three or four copies.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import type {
  AssignedProfessional, ClinicalDocument, Code, II, Interval, MedicationEntry, NamePart, Narrative, NonXmlBody, Organization, PersonName, Section,
} from './model.js';
import { CDA_TYPE_ID, HL7_NS, XSI_NS } from './vocabulary.js';

const BODY_MARKER = 'PASSERELLE-NONXMLBODY-CONTENT';

/**
 * A value as xmlbuilder2 must be given it to write it as it is: the builder escapes `<` and `>`
 * but leaves an `&` that looks like an entity reference alone, so "R&amp;D" in a report would
 * be read back as "R&D", and "&eacute;" would make the document not XML. Every `&` escaped here
 * reaches it as `&amp;`, which it keeps.
 */
const literal = (value: string): string => value.replaceAll('&', '&amp;');
/** Bytes of content encoded per step: a multiple of 3, so that chunks concatenate into one base64. */
const BASE64_CHUNK = 3 * 256 * 1024;

export function serializeDocument(document: ClinicalDocument): Buffer {
  const xml = create({ version: '1.0', encoding: 'UTF-8' });
  const root = xml.ele(HL7_NS, 'ClinicalDocument').att('http://www.w3.org/2000/xmlns/', 'xmlns:xsi', XSI_NS);
  header(root, document);
  const component = root.ele('component');
  if (document.body.kind === 'nonXML') {
    component.ele('nonXMLBody').ele('text', { mediaType: document.body.mediaType, representation: 'B64' }).txt(BODY_MARKER);
  } else {
    const body = component.ele('structuredBody');
    for (const section of document.body.sections) writeSection(body.ele('component'), section);
  }
  const text = xml.end({ prettyPrint: true });
  return document.body.kind === 'nonXML' ? spliceBody(text, document.body) : Buffer.from(text, 'utf8');
}

function header(root: XMLBuilder, d: ClinicalDocument): void {
  root.ele('realmCode', { code: 'FR' });
  root.ele('typeId', { ...CDA_TYPE_ID });
  for (const t of d.templateIds) ii(root, 'templateId', t);
  ii(root, 'id', d.id);
  code(root, 'code', d.code);
  root.ele('title').txt(literal(d.title));
  root.ele('effectiveTime', { value: d.effectiveTime });
  code(root, 'confidentialityCode', d.confidentialityCode);
  root.ele('languageCode', { code: d.languageCode });
  ii(root, 'setId', d.setId);
  root.ele('versionNumber', { value: String(d.versionNumber) });

  const patientRole = root.ele('recordTarget').ele('patientRole');
  for (const id of d.recordTarget.ids) ii(patientRole, 'id', id);
  const patient = patientRole.ele('patient', { classCode: 'PSN' });
  name(patient, d.recordTarget.name);
  code(patient, 'administrativeGenderCode', d.recordTarget.administrativeGender);
  patient.ele('birthTime', { value: d.recordTarget.birthTime });
  if (d.recordTarget.birthPlaceCode !== undefined) patient.ele('birthplace').ele('place').ele('addr').ele('county').txt(literal(d.recordTarget.birthPlaceCode));

  for (const author of d.authors) {
    const el = root.ele('author');
    el.ele('time', { value: author.time });
    professional(el.ele('assignedAuthor'), author.professional, 'assignedPerson');
  }

  const custodian = root.ele('custodian').ele('assignedCustodian').ele('representedCustodianOrganization');
  ii(custodian, 'id', d.custodian.id);
  custodian.ele('name').txt(literal(d.custodian.name));

  for (const recipient of d.informationRecipients) {
    const intended = root.ele('informationRecipient').ele('intendedRecipient');
    const p = recipient.professional;
    ii(intended, 'id', p.id);
    for (const telecom of p.telecoms ?? []) intended.ele('telecom', { value: literal(telecom) });
    name(intended.ele('informationRecipient'), p.name);
    if (p.organization !== undefined) {
      const org = intended.ele('receivedOrganization');
      ii(org, 'id', p.organization.id);
      org.ele('name').txt(literal(p.organization.name));
    }
  }

  const legal = root.ele('legalAuthenticator');
  legal.ele('time', { value: d.legalAuthenticator.time });
  legal.ele('signatureCode', { code: 'S' });
  professional(legal.ele('assignedEntity'), d.legalAuthenticator.professional, 'assignedPerson');

  for (const participant of d.participants) {
    const el = root.ele('participant', { typeCode: participant.typeCode });
    code(el, 'functionCode', participant.functionCode);
    interval(el.ele('time').att(XSI_NS, 'xsi:type', 'IVL_TS'), participant.time);
    professional(el.ele('associatedEntity', { classCode: 'PROV' }), participant.professional, 'associatedPerson', 'scopingOrganization');
  }

  for (const order of d.inFulfillmentOf) ii(root.ele('inFulfillmentOf').ele('order'), 'id', order);

  for (const event of d.documentationOf) {
    const serviceEvent = root.ele('documentationOf').ele('serviceEvent', { classCode: 'ACT' });
    code(serviceEvent, 'code', event.code);
    interval(serviceEvent.ele('effectiveTime'), event.effectiveTime);
    if (event.performer !== undefined) professional(serviceEvent.ele('performer', { typeCode: 'PRF' }).ele('assignedEntity'), event.performer, 'assignedPerson');
  }

  if (d.relatedDocument !== undefined) {
    const parent = root.ele('relatedDocument', { typeCode: d.relatedDocument.typeCode }).ele('parentDocument');
    ii(parent, 'id', d.relatedDocument.parentId);
    if (d.relatedDocument.parentSetId !== undefined) ii(parent, 'setId', d.relatedDocument.parentSetId);
    if (d.relatedDocument.parentVersionNumber !== undefined) parent.ele('versionNumber', { value: String(d.relatedDocument.parentVersionNumber) });
  }

  if (d.consent !== undefined) {
    const consent = root.ele('authorization').ele('consent');
    code(consent, 'code', d.consent.code);
    consent.ele('statusCode', { code: 'completed' });
  }

  const encounter = root.ele('componentOf').ele('encompassingEncounter');
  code(encounter, 'code', d.encounter.code);
  interval(encounter.ele('effectiveTime'), d.encounter.effectiveTime);
  if (d.encounter.responsibleParty !== undefined) professional(encounter.ele('responsibleParty').ele('assignedEntity'), d.encounter.responsibleParty, 'assignedPerson');
  const facility = encounter.ele('location').ele('healthCareFacility');
  ii(facility, 'id', d.encounter.facility.id);
  code(facility, 'code', d.encounter.facility.code);
  facility.ele('location').ele('name').txt(literal(d.encounter.facility.name));
}

function professional(el: XMLBuilder, p: AssignedProfessional, personElement: 'assignedPerson' | 'associatedPerson', organizationElement: 'representedOrganization' | 'scopingOrganization' = 'representedOrganization'): void {
  ii(el, 'id', p.id);
  if (p.code !== undefined) code(el, 'code', p.code);
  for (const telecom of p.telecoms ?? []) el.ele('telecom', { value: literal(telecom) });
  name(el.ele(personElement), p.name);
  if (p.organization !== undefined) organization(el.ele(organizationElement), p.organization);
}

function organization(el: XMLBuilder, o: Organization): void {
  ii(el, 'id', o.id);
  el.ele('name').txt(literal(o.name));
  if (o.standardIndustryClassCode !== undefined) code(el, 'standardIndustryClassCode', o.standardIndustryClassCode);
}

function name(parent: XMLBuilder, n: PersonName): void {
  const el = parent.ele('name');
  if (n.prefix !== undefined) el.ele('prefix').txt(literal(n.prefix));
  // SM-SCH example order: birth names first, then the names in use (CL).
  const inUse = (p: NamePart): boolean => p.qualifier === 'CL';
  const write = (tag: 'family' | 'given', parts: readonly NamePart[]): void => {
    for (const part of parts) el.ele(tag, part.qualifier === undefined ? {} : { qualifier: part.qualifier }).txt(literal(part.value));
  };
  write('family', n.family.filter((p) => !inUse(p)));
  write('given', n.given.filter((p) => !inUse(p)));
  write('family', n.family.filter(inUse));
  write('given', n.given.filter(inUse));
  if (n.suffix !== undefined) el.ele('suffix').txt(literal(n.suffix));
}

function writeSection(component: XMLBuilder, s: Section): void {
  const section = component.ele('section');
  for (const t of s.templateIds) ii(section, 'templateId', t);
  if (s.id !== undefined) ii(section, 'id', s.id);
  code(section, 'code', s.code);
  section.ele('title').txt(literal(s.title));
  if (s.text !== undefined) narrative(section.ele('text'), s.text);
  for (const entry of s.entries ?? []) medication(section.ele('entry', { typeCode: 'DRIV' }), entry);
  for (const child of s.sections ?? []) writeSection(section.ele('component'), child);
}

function narrative(text: XMLBuilder, n: Narrative): void {
  if (n.kind === 'paragraphs') {
    for (const p of n.paragraphs) text.ele('paragraph').txt(literal(p));
    return;
  }
  const table = text.ele('table', { border: '1' });
  const head = table.ele('thead').ele('tr');
  for (const h of n.head) head.ele('th').txt(literal(h));
  const body = table.ele('tbody');
  for (const row of n.rows) {
    const tr = body.ele('tr');
    for (const cell of row) {
      const td = tr.ele('td');
      if (cell.id === undefined) td.txt(literal(cell.text));
      else td.ele('content', { ID: cell.id }).txt(literal(cell.text));
    }
  }
}

function medication(entry: XMLBuilder, m: MedicationEntry): void {
  const sa = entry.ele('substanceAdministration', { classCode: 'SBADM', moodCode: 'EVN' });
  for (const t of m.templateIds) ii(sa, 'templateId', t);
  ii(sa, 'id', m.id);
  if (m.code !== undefined) code(sa, 'code', m.code);
  sa.ele('text').ele('reference', { value: `#${m.narrativeId}` });
  sa.ele('statusCode', { code: 'completed' });
  interval(sa.ele('effectiveTime').att(XSI_NS, 'xsi:type', 'IVL_TS'), m.effectiveTime ?? {});
  const product = sa.ele('consumable').ele('manufacturedProduct');
  for (const t of m.product.templateIds) ii(product, 'templateId', t);
  const material = product.ele('manufacturedMaterial');
  const productCode = m.product.code;
  const c = 'nullFlavor' in productCode ? material.ele('code', { nullFlavor: productCode.nullFlavor }) : code(material, 'code', productCode);
  if (productCode.narrativeId !== undefined) c.ele('originalText').ele('reference', { value: `#${productCode.narrativeId}` });
  if (m.product.name !== undefined) material.ele('name').txt(literal(m.product.name));
}

function ii(parent: XMLBuilder, tag: string, id: II): XMLBuilder {
  return parent.ele(tag, id.extension === undefined ? { root: literal(id.root) } : { root: literal(id.root), extension: literal(id.extension) });
}

function code(parent: XMLBuilder, tag: string, c: Code): XMLBuilder {
  return parent.ele(tag, {
    code: literal(c.code),
    displayName: literal(c.displayName),
    codeSystem: literal(c.codeSystem),
    ...(c.codeSystemName === undefined ? {} : { codeSystemName: literal(c.codeSystemName) }),
  });
}

/** An interval with neither bound is "unknown": nullFlavor UNK, as CDA allows. */
function interval(el: XMLBuilder, i: Interval): void {
  if (i.low === undefined && i.high === undefined) {
    el.att('nullFlavor', 'UNK');
    return;
  }
  if (i.low !== undefined) el.ele('low', { value: i.low });
  if (i.high !== undefined) el.ele('high', { value: i.high });
}

function spliceBody(text: string, body: NonXmlBody): Buffer {
  // The body is the last element: no text written after it can contain the marker.
  const at = text.lastIndexOf(BODY_MARKER);
  const head = Buffer.from(text.slice(0, at), 'utf8');
  const tail = Buffer.from(text.slice(at + BODY_MARKER.length), 'utf8');
  const content = body.content;
  const encodedLength = Math.ceil(content.length / 3) * 4;
  const out = Buffer.allocUnsafe(head.length + encodedLength + tail.length);
  let offset = head.copy(out, 0);
  const source = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  for (let start = 0; start < source.length; start += BASE64_CHUNK) {
    offset += out.write(source.subarray(start, start + BASE64_CHUNK).toString('base64'), offset, 'latin1');
  }
  tail.copy(out, offset);
  return out;
}
