import { expect } from 'chai';
import fc from 'fast-check';
import fontoxpath from 'fontoxpath';
import type { Node } from 'slimdom';
import {
  cidUrl, derivedId, parseProvideAndRegisterRequest, parseSubmitObjectsRequest, provideAndRegisterRequestXml, submitObjectsRequestXml,
} from '../../src/xds/ebrim.js';
import { parseXml } from '../../src/validation/xml-parse.js';
import { DOCUMENT_ENTRY, FOLDER, NS, SUBMISSION_SET } from '../../src/xds/vocabulary.js';
import { XdsFormatError } from '../../src/xds/xml-read.js';
import {
  ENTRY_ID, FOLDER_ID, INS, SUBMISSION_SET_ID, documentEntry, submission, submissionArbitrary, submissionSet,
} from '../support/xds.js';

const PREFIXES: Readonly<Record<string, string>> = { rim: NS.RIM, lcm: NS.LCM, xdsb: NS.XDS_B, xop: NS.XOP };
const namespaceResolver = (prefix: string): string | null => PREFIXES[prefix] ?? null;

/** XPath 3.1 on what Passerelle wrote, read by another parser than its own (saxes, through slimdom). */
function xpath(xml: string): { string: (path: string) => string; strings: (path: string) => string[]; count: (path: string) => number } {
  const root = parseXml(xml, 'written.xml') as unknown as Node;
  return {
    string: (path) => fontoxpath.evaluateXPathToString(path, root, null, {}, { namespaceResolver }),
    strings: (path) => fontoxpath.evaluateXPathToStrings(path, root, null, {}, { namespaceResolver }),
    count: (path) => fontoxpath.evaluateXPathToNumber(`count(${path})`, root, null, {}, { namespaceResolver }),
  };
}

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof XdsFormatError) return [...error.problems];
    throw error;
  }
  throw new Error('no XdsFormatError was thrown');
};

describe('ebRIM 3.0 metadata', () => {
  describe('writing', () => {
    const xml = submitObjectsRequestXml(submission());
    const x = xpath(xml);
    const entry = `/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:ExtrinsicObject[@id = '${ENTRY_ID}']`;
    const slot = (owner: string, name: string): string[] => x.strings(`${owner}/rim:Slot[@name = '${name}']/rim:ValueList/rim:Value`);

    it('writes a DocumentEntry as a stable ExtrinsicObject with its mimeType and status', () => {
      expect(x.count(entry)).to.equal(1);
      expect(x.string(`${entry}/@objectType`)).to.equal(DOCUMENT_ENTRY.OBJECT_TYPE_STABLE);
      expect(x.string(`${entry}/@mimeType`)).to.equal('text/xml');
      expect(x.string(`${entry}/@status`)).to.equal('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved');
      expect(x.count(`${entry}/@lid`) + x.count(`${entry}/rim:VersionInfo`)).to.equal(0);
    });

    it('writes the plain attributes as Slots, the patient ids as CX and the legal authenticator as XCN', () => {
      expect(slot(entry, 'creationTime')).to.deep.equal(['20260327143500']);
      expect(slot(entry, 'languageCode')).to.deep.equal(['fr-FR']);
      expect(slot(entry, 'serviceStartTime')).to.deep.equal(['20260327140000']);
      expect(slot(entry, 'serviceStopTime')).to.deep.equal(['20260327143000']);
      expect(slot(entry, 'sourcePatientId')).to.deep.equal(['IPP-00042^^^&1.2.250.1.71.4.2.2.1750803447&ISO^PI']);
      expect(slot(entry, 'sourcePatientInfo')).to.deep.equal(['PID-5|DUPONT^Marie^^^^^L', 'PID-7|19800101', 'PID-8|F']);
      expect(slot(entry, 'hash')).to.deep.equal(['da39a3ee5e6b4b0d3255bfef95601890afd80709']);
      expect(slot(entry, 'size')).to.deep.equal(['48213']);
      expect(slot(entry, 'repositoryUniqueId')).to.deep.equal(['1.2.250.1.213.1.1.9.1']);
      expect(slot(entry, 'legalAuthenticator')).to.deep.equal(['801234567890^MARTIN^Jeanne^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS']);
      expect(slot(entry, 'urn:ihe:iti:xds:2013:referenceIdList')).to.deep.equal(['REQ-7^^^&1.2.250.1.71.4.2.2.1750803447&ISO^urn:ihe:iti:xds:2013:order']);
    });

    it('writes the title and comments as LocalizedStrings in the document\'s language', () => {
      expect(x.string(`${entry}/rim:Name/rim:LocalizedString/@value`)).to.equal('Compte rendu de téléconsultation');
      expect(x.string(`${entry}/rim:Name/rim:LocalizedString/@xml:lang`)).to.equal('fr-FR');
      expect(x.string(`${entry}/rim:Name/rim:LocalizedString/@charset`)).to.equal('UTF-8');
      expect(x.string(`${entry}/rim:Description/rim:LocalizedString/@value`)).to.equal('Téléconsultation de suivi « post-opératoire » & ajustement du traitement');
    });

    it('writes each coded attribute as a Classification: scheme, classified object, code, codingScheme slot, display name', () => {
      const codes: [string, string, string, string][] = [
        [DOCUMENT_ENTRY.CLASS_CODE, '10', '1.2.250.1.213.1.1.4.1', 'Compte rendu'],
        [DOCUMENT_ENTRY.TYPE_CODE, '85208-7', '2.16.840.1.113883.6.1', 'Compte rendu de télémédecine'],
        [DOCUMENT_ENTRY.FORMAT_CODE, 'urn:ihe:iti:xds-sd:pdf:2008', '1.3.6.1.4.1.19376.1.2.3', 'Document à corps non structuré en Pdf/A-1'],
        [DOCUMENT_ENTRY.HEALTHCARE_FACILITY_TYPE_CODE, 'SA01', '1.2.250.1.71.4.2.4', 'Etablissement Public de santé'],
        [DOCUMENT_ENTRY.PRACTICE_SETTING_CODE, 'AMBULATOIRE', '1.2.250.1.213.1.1.4.9', 'Ambulatoire'],
        [DOCUMENT_ENTRY.EVENT_CODE_LIST, 'TLC', '1.2.250.1.215.200.3.3', 'Téléconsultation'],
      ];
      for (const [scheme, code, codingScheme, displayName] of codes) {
        const c = `${entry}/rim:Classification[@classificationScheme = '${scheme}']`;
        expect(x.count(c), scheme).to.equal(1);
        expect(x.string(`${c}/@classifiedObject`)).to.equal(ENTRY_ID);
        expect(x.string(`${c}/@nodeRepresentation`)).to.equal(code);
        expect(slot(c, 'codingScheme')).to.deep.equal([codingScheme]);
        expect(x.string(`${c}/rim:Name/rim:LocalizedString/@value`)).to.equal(displayName);
        expect(x.string(`${c}/@objectType`)).to.equal('urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification');
      }
      expect(x.strings(`${entry}/rim:Classification[@classificationScheme = '${DOCUMENT_ENTRY.CONFIDENTIALITY_CODE}']/@nodeRepresentation`)).to.deep.equal(['N', 'MASQUE_PS']);
    });

    it('writes the author as a Classification with an empty node and the authorPerson, authorInstitution, authorRole, authorSpecialty slots', () => {
      const author = `${entry}/rim:Classification[@classificationScheme = '${DOCUMENT_ENTRY.AUTHOR}']`;
      expect(x.count(author)).to.equal(1);
      expect(x.count(`${author}[@nodeRepresentation = '']`)).to.equal(1);
      expect(slot(author, 'authorPerson')).to.deep.equal(['801234567890^MARTIN^Jeanne^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS']);
      expect(slot(author, 'authorInstitution')).to.deep.equal(['CENTRE HOSPITALIER DE TEST^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750803447']);
      expect(slot(author, 'authorRole')).to.deep.equal(['Médecin']);
      expect(slot(author, 'authorSpecialty')).to.deep.equal(['G15_10/SM26^Qualifié en médecine générale (SM)^1.2.250.1.213.1.1.4.5']);
    });

    it('writes patientId and uniqueId as ExternalIdentifiers named as ITI TF-3 Table 4.2.5-1 names them', () => {
      const patient = `${entry}/rim:ExternalIdentifier[@identificationScheme = '${DOCUMENT_ENTRY.PATIENT_ID}']`;
      expect(x.string(`${patient}/@value`)).to.equal('248039263001064^^^&1.2.250.1.213.1.4.10&ISO^NH');
      expect(x.string(`${patient}/@registryObject`)).to.equal(ENTRY_ID);
      expect(x.string(`${patient}/rim:Name/rim:LocalizedString/@value`)).to.equal('XDSDocumentEntry.patientId');
      const unique = `${entry}/rim:ExternalIdentifier[@identificationScheme = '${DOCUMENT_ENTRY.UNIQUE_ID}']`;
      expect(x.string(`${unique}/@value`)).to.equal('1.2.250.1.213.1.1.9.4242.20260327.1');
      expect(x.string(`${unique}/rim:Name/rim:LocalizedString/@value`)).to.equal('XDSDocumentEntry.uniqueId');
    });

    it('writes the SubmissionSet as a RegistryPackage classified by the SubmissionSet node, with its ExternalIdentifiers', () => {
      const set = `/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:RegistryPackage[@id = '${SUBMISSION_SET_ID}']`;
      expect(slot(set, 'submissionTime')).to.deep.equal(['20260327143612']);
      expect(x.string(`${set}/rim:Classification[@classificationScheme = '${SUBMISSION_SET.CONTENT_TYPE_CODE}']/@nodeRepresentation`)).to.equal('04');
      expect(x.count(`${set}/rim:Classification[@classificationScheme = '${SUBMISSION_SET.AUTHOR}']`)).to.equal(1);
      const identifier = (scheme: string, name: string): string => {
        expect(x.string(`${set}/rim:ExternalIdentifier[@identificationScheme = '${scheme}']/rim:Name/rim:LocalizedString/@value`)).to.equal(name);
        return x.string(`${set}/rim:ExternalIdentifier[@identificationScheme = '${scheme}']/@value`);
      };
      expect(identifier(SUBMISSION_SET.UNIQUE_ID, 'XDSSubmissionSet.uniqueId')).to.equal('1.2.250.1.213.1.1.9.4242.20260327.2');
      expect(identifier(SUBMISSION_SET.SOURCE_ID, 'XDSSubmissionSet.sourceId')).to.equal('1.2.250.1.213.1.1.9.4242');
      expect(identifier(SUBMISSION_SET.PATIENT_ID, 'XDSSubmissionSet.patientId')).to.equal('248039263001064^^^&1.2.250.1.213.1.4.10&ISO^NH');
      expect(x.count(`/lcm:SubmitObjectsRequest/rim:RegistryObjectList/rim:Classification[@classifiedObject = '${SUBMISSION_SET_ID}'][@classificationNode = '${SUBMISSION_SET.CLASSIFICATION_NODE}']`)).to.equal(1);
    });

    it('writes a Folder as a RegistryPackage classified by the Folder node, and the Associations with their slots', () => {
      const list = '/lcm:SubmitObjectsRequest/rim:RegistryObjectList';
      expect(x.count(`${list}/rim:Classification[@classifiedObject = '${FOLDER_ID}'][@classificationNode = '${FOLDER.CLASSIFICATION_NODE}']`)).to.equal(1);
      expect(x.string(`${list}/rim:RegistryPackage[@id = '${FOLDER_ID}']/rim:ExternalIdentifier[@identificationScheme = '${FOLDER.UNIQUE_ID}']/@value`)).to.equal('1.2.250.1.213.1.1.9.4242.20260327.3');
      const member = `${list}/rim:Association[@sourceObject = '${SUBMISSION_SET_ID}'][@targetObject = '${ENTRY_ID}']`;
      expect(x.string(`${member}/@associationType`)).to.equal('urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember');
      expect(slot(member, 'SubmissionSetStatus')).to.deep.equal(['Original']);
      expect(x.strings(`${list}/*/local-name()`)).to.deep.equal([
        'RegistryPackage', 'Classification', 'RegistryPackage', 'Classification', 'ExtrinsicObject', 'Association', 'Association', 'Association', 'Association',
      ]);
    });

    it('gives every Classification and ExternalIdentifier a distinct urn:uuid id derived from the model: the same model writes the same bytes', () => {
      const ids = x.strings('//(rim:Classification | rim:ExternalIdentifier)/@id');
      expect(ids).to.have.length(21); // entry 9 + 2, set 2 + 3 + its node, folder 1 + 2 + its node
      expect(new Set(ids).size).to.equal(ids.length);
      for (const id of ids) expect(id).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(submitObjectsRequestXml(submission())).to.equal(xml);
      expect(derivedId(ENTRY_ID, DOCUMENT_ENTRY.CLASS_CODE, 0)).not.to.equal(derivedId(ENTRY_ID, DOCUMENT_ENTRY.CLASS_CODE, 1));
    });

    it('writes an ITI-57 version with lid and VersionInfo', () => {
      const versioned = submitObjectsRequestXml(submission({ documentEntries: [documentEntry({ logicalId: 'urn:uuid:0e0e0e0e-1111-4222-8333-444455556666', version: '2' })] }));
      const v = xpath(versioned);
      expect(v.string(`${entry}/@lid`)).to.equal('urn:uuid:0e0e0e0e-1111-4222-8333-444455556666');
      expect(v.string(`${entry}/rim:VersionInfo/@versionName`)).to.equal('2');
    });

    it('keeps every character of a value, line breaks and tabs in attributes included, as any XML parser reads them', () => {
      const title = 'Ligne 1\nLigne 2\tfin\r & <b> "cité" l\'été &amp; &nbsp; &#65;';
      const written = submitObjectsRequestXml(submission({ documentEntries: [documentEntry({ title, sourcePatientInfo: ['PID-5|A\rB'] })] }));
      expect(written).to.contain('&#xA;').and.to.contain('&#x9;').and.to.contain('&#xD;');
      const w = xpath(written);
      expect(w.string(`${entry}/rim:Name/rim:LocalizedString/@value`)).to.equal(title);
      expect(w.strings(`${entry}/rim:Slot[@name = 'sourcePatientInfo']/rim:ValueList/rim:Value`)).to.deep.equal(['PID-5|A\rB']);
      expect(parseSubmitObjectsRequest(written).documentEntries[0]?.title).to.equal(title);
    });

    it('refuses, naming each, the values ebRIM cannot carry', () => {
      const problems = problemsOf(() => submitObjectsRequestXml(submission({
        documentEntries: [documentEntry({ title: 'T'.repeat(1025), sourcePatientInfo: ['P'.repeat(257)], version: '12345678901234567' })],
      })));
      expect(problems).to.have.length(3);
      expect(problems.join('\n')).to.contain(`DocumentEntry ${ENTRY_ID}: title is 1025 characters long`).and.to.contain('slot sourcePatientInfo').and.to.contain('version');
      expect(() => submitObjectsRequestXml(submission({ documentEntries: [documentEntry({ title: 'a\uFDD0b' })] }))).to.throw(XdsFormatError, /noncharacter/);
      expect(() => submitObjectsRequestXml(submission({ documentEntries: [documentEntry({ title: 'a\u0001b' })] }))).to.throw(/invalid characters/i);
    });
  });

  describe('reading back', () => {
    it('reads what it writes: parse(serialize(x)) deep-equals x for the hand-built submission', () => {
      const model = submission();
      expect(parseSubmitObjectsRequest(submitObjectsRequestXml(model))).to.deep.equal(model);
    });

    it('reads what it writes for any model (property)', () => {
      fc.assert(fc.property(submissionArbitrary, (model) => {
        expect(parseSubmitObjectsRequest(submitObjectsRequestXml(model))).to.deep.equal(model);
      }), { numRuns: 300 });
    });

    it('reads the same metadata whatever the prefixes, the attribute order and where the Classifications stand', () => {
      const written = submitObjectsRequestXml(submission());
      // Another spelling of the same document: default namespaces, other prefixes, attributes reversed,
      // the SubmissionSet's classification moved inside its package, in a SOAP envelope.
      const respelled = written
        .replace(/<rim:/g, '<r:').replace(/<\/rim:/g, '</r:').replace('xmlns:rim=', 'xmlns:r=')
        .replace(/<lcm:SubmitObjectsRequest ([^>]*)>/, '<SubmitObjectsRequest xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" $1>').replace('</lcm:SubmitObjectsRequest>', '</SubmitObjectsRequest>')
        .replace(/<r:(\w+) ((?:[\w:]+="[^"]*" ?)+)(\/?)>/g, (_, name: string, attributes: string, close: string) => `<r:${name} ${attributes.trim().split(/ (?=[\w:]+=")/).reverse().join(' ')}${close}>`);
      const classification = /<r:Classification [^>]*classificationNode="urn:uuid:a54d6aa5[^>]*\/>/.exec(respelled)?.[0] ?? '';
      expect(classification).not.to.equal('');
      const moved = respelled.replace(classification, '').replace('<r:Slot name="submissionTime">', `${classification}<r:Slot name="submissionTime">`)
        .replace(/^<\?xml[^>]*>/, '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>') + '</s:Body></s:Envelope>';
      expect(parseSubmitObjectsRequest(moved)).to.deep.equal(submission());
    });

    it('reports every missing attribute of an ExtrinsicObject at once, naming it but never a patient value', () => {
      const written = submitObjectsRequestXml(submission({ folders: [], associations: [] }));
      const broken = written
        .replace(/<rim:ExternalIdentifier [^>]*identificationScheme="urn:uuid:2e82c1f6[^>]*>[\s\S]*?<\/rim:ExternalIdentifier>/, '')
        .replace(/<rim:ExternalIdentifier [^>]*identificationScheme="urn:uuid:58a6f841[^>]*>[\s\S]*?<\/rim:ExternalIdentifier>/, '')
        .replace(/<rim:Classification [^>]*classificationScheme="urn:uuid:f0306f51[^>]*>[\s\S]*?<\/rim:Classification>/, '')
        .replace(/<rim:Slot name="creationTime">[\s\S]*?<\/rim:Slot>/, '')
        .replace(/<rim:Slot name="sourcePatientId">[\s\S]*?<\/rim:Slot>/, '<rim:Slot name="sourcePatientId"><rim:ValueList><rim:Value>248039263001064</rim:Value></rim:ValueList></rim:Slot>')
        .replace(' mimeType="text/xml"', '');
      const problems = problemsOf(() => parseSubmitObjectsRequest(broken));
      const where = `DocumentEntry ${ENTRY_ID}: `;
      expect(problems).to.include.members([
        `${where}the mimeType attribute is missing`,
        `${where}the slot creationTime is missing`,
        `${where}no XDSDocumentEntry.patientId ExternalIdentifier (${DOCUMENT_ENTRY.PATIENT_ID})`,
        `${where}no XDSDocumentEntry.uniqueId ExternalIdentifier (${DOCUMENT_ENTRY.UNIQUE_ID})`,
        `${where}no typeCode Classification, expected one`,
        `${where}sourcePatientId: CX: the assigning authority (CX.4.2) is empty`,
      ]);
      expect(problems.join('\n')).not.to.contain(INS.id);
    });

    it('reports a submission without SubmissionSet, with two, or with a package that is neither set nor folder', () => {
      const written = submitObjectsRequestXml(submission({ folders: [], associations: [] }));
      const node = /\s*<rim:Classification [^>]*classificationNode="urn:uuid:a54d6aa5[^>]*\/>/.exec(written)?.[0] ?? '';
      expect(problemsOf(() => parseSubmitObjectsRequest(written.replace(node, '')))).to.deep.equal([
        `RegistryPackage ${SUBMISSION_SET_ID}: classified neither as a SubmissionSet nor as a Folder`,
        'SubmitObjectsRequest: no SubmissionSet (a RegistryPackage classified as urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd)',
      ]);
      const objectsOf = (xml: string): string => /<rim:RegistryObjectList>([\s\S]*)<\/rim:RegistryObjectList>/.exec(xml)?.[1] ?? '';
      const another = objectsOf(submitObjectsRequestXml({ submissionSet: submissionSet({ entryUUID: 'urn:uuid:00000000-0000-4000-8000-000000000002' }), documentEntries: [], folders: [], associations: [] }));
      const two = submitObjectsRequestXml({ submissionSet: submissionSet(), documentEntries: [], folders: [], associations: [] }).replace('</rim:RegistryObjectList>', `${another}</rim:RegistryObjectList>`);
      expect(problemsOf(() => parseSubmitObjectsRequest(two))).to.deep.equal(['SubmitObjectsRequest: 2 SubmissionSets, expected one']);
    });

    it('reports a repeated slot, a repeated single value and a size that is not a number', () => {
      const written = submitObjectsRequestXml(submission({ folders: [], associations: [] }))
        .replace('<rim:Value>fr-FR</rim:Value>', '<rim:Value>fr-FR</rim:Value><rim:Value>en-US</rim:Value>')
        .replace('<rim:Value>48213</rim:Value>', '<rim:Value>48 ko</rim:Value>')
        .replace(/(<rim:Slot name="hash">[\s\S]*?<\/rim:Slot>)/, '$1$1');
      expect(problemsOf(() => parseSubmitObjectsRequest(written))).to.have.members([
        `DocumentEntry ${ENTRY_ID}: the slot hash appears more than once`,
        `DocumentEntry ${ENTRY_ID}: the slot languageCode has 2 values, expected one`,
        `DocumentEntry ${ENTRY_ID}: the slot size is not an integer`,
      ]);
    });

    it('refuses a DOCTYPE, an undeclared entity, malformed XML and input over the size bound', () => {
      const written = submitObjectsRequestXml(submission());
      expect(() => parseSubmitObjectsRequest(`<!DOCTYPE x [<!ENTITY e "boom">]>${written.replace(/^<\?xml[^>]*>/, '')}`)).to.throw(XdsFormatError, /DOCTYPE/);
      expect(() => parseSubmitObjectsRequest(written.replace('Compte rendu de téléconsultation', '&nbsp;'))).to.throw(XdsFormatError, /entity &nbsp; is not declared/);
      expect(() => parseSubmitObjectsRequest(written.replace('</rim:RegistryObjectList>', ''))).to.throw(XdsFormatError, /not well-formed/);
      expect(() => parseSubmitObjectsRequest(written, { maxChars: 1000 })).to.throw(XdsFormatError, /over the limit of 1000/);
      expect(() => parseSubmitObjectsRequest('<lcm:RemoveObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"/>')).to.throw(XdsFormatError, /no SubmitObjectsRequest element/);
    });
  });

  describe('ProvideAndRegisterDocumentSetRequest', () => {
    const model = submission({ folders: [], associations: [] });

    it('puts an xop:Include per document after the SubmitObjectsRequest, with a cid: URL of the part', () => {
      const xml = provideAndRegisterRequestXml(model, [{ entryUUID: ENTRY_ID, contentId: 'cda.1@passerelle' }]);
      const x = xpath(xml);
      expect(x.strings('/xdsb:ProvideAndRegisterDocumentSetRequest/*/local-name()')).to.deep.equal(['SubmitObjectsRequest', 'Document']);
      expect(x.string('/xdsb:ProvideAndRegisterDocumentSetRequest/xdsb:Document/@id')).to.equal(ENTRY_ID);
      expect(x.string('/xdsb:ProvideAndRegisterDocumentSetRequest/xdsb:Document/xop:Include/@href')).to.equal('cid:cda.1@passerelle');
      expect(cidUrl('a b%c/d@e')).to.equal('cid:a%20b%25c%2Fd@e');
    });

    it('reads its metadata and documents back, xop:Include or inline base64', () => {
      const xml = provideAndRegisterRequestXml(model, [{ entryUUID: ENTRY_ID, contentId: 'cda.1@passerelle' }]);
      expect(parseProvideAndRegisterRequest(xml)).to.deep.equal({ request: model, documents: [{ entryUUID: ENTRY_ID, include: 'cid:cda.1@passerelle' }] });
      const inline = xml.replace(/<xop:Include [^>]*\/>/, 'SGVs\n  bG8=');
      expect(parseProvideAndRegisterRequest(inline).documents).to.deep.equal([{ entryUUID: ENTRY_ID, inline: Buffer.from('Hello') }]);
      expect(parseSubmitObjectsRequest(xml)).to.deep.equal(model);
      expect(() => parseProvideAndRegisterRequest(xml.replace(/<xop:Include [^>]*\/>/, 'not base64!'))).to.throw(XdsFormatError, /neither an xop:Include nor base64/);
    });

    it('refuses documents that do not match the DocumentEntries one to one', () => {
      expect(problemsOf(() => provideAndRegisterRequestXml(model, []))).to.deep.equal([`the DocumentEntry ${ENTRY_ID} has no document`]);
      expect(problemsOf(() => provideAndRegisterRequestXml(model, [{ entryUUID: ENTRY_ID, contentId: 'a@b' }, { entryUUID: 'urn:uuid:x', contentId: 'b@b' }])))
        .to.deep.equal(['the document urn:uuid:x has no DocumentEntry in the submission']);
      expect(problemsOf(() => provideAndRegisterRequestXml(model, [{ entryUUID: ENTRY_ID, contentId: 'a@b' }, { entryUUID: ENTRY_ID, contentId: 'b@b' }])))
        .to.deep.equal(['a DocumentEntry has more than one document']);
    });
  });
});
