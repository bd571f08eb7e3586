import { expect } from 'chai';
import {
  parseRetrieveDocumentSetRequest, parseRetrieveDocumentSetResponse, retrieveDocumentSetRequestXml, retrieveDocumentSetResponseXml, type DocumentRequest,
} from '../../src/xds/retrieve.js';
import { XdsFormatError } from '../../src/xds/xml-read.js';
import { REPOSITORY_ID } from '../support/xds.js';

const CDA_REQUEST: DocumentRequest = { repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.250.1.213.1.1.9.4242.20260327.1' };

describe('ITI-43 Retrieve Document Set', () => {
  describe('RetrieveDocumentSetRequest', () => {
    it('writes one DocumentRequest per document, HomeCommunityId first when known, and reads them back', () => {
      const requests: DocumentRequest[] = [CDA_REQUEST, { repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.3', homeCommunityId: 'urn:oid:1.2.250.1.213.1.1.9' }];
      const xml = retrieveDocumentSetRequestXml(requests);
      expect(xml).to.match(/<xdsb:DocumentRequest>\s*<xdsb:RepositoryUniqueId>1\.2\.250\.1\.213\.1\.1\.9\.1<\/xdsb:RepositoryUniqueId>\s*<xdsb:DocumentUniqueId>1\.2\.250\.1\.213\.1\.1\.9\.4242\.20260327\.1<\/xdsb:DocumentUniqueId>/);
      expect(xml).to.match(/<xdsb:HomeCommunityId>urn:oid:1\.2\.250\.1\.213\.1\.1\.9<\/xdsb:HomeCommunityId>\s*<xdsb:RepositoryUniqueId>/);
      expect(parseRetrieveDocumentSetRequest(xml)).to.deep.equal(requests);
    });

    it('reads a request in a SOAP envelope with a default namespace and indented values', () => {
      const xml = `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007">
        <DocumentRequest><RepositoryUniqueId>
          ${REPOSITORY_ID}
        </RepositoryUniqueId><DocumentUniqueId>1.2.3</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest></soap:Body></soap:Envelope>`;
      expect(parseRetrieveDocumentSetRequest(xml)).to.deep.equal([{ repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.3' }]);
    });

    it('refuses an empty request, and reports each DocumentRequest without its ids', () => {
      expect(() => retrieveDocumentSetRequestXml([])).to.throw(XdsFormatError, /at least one document/);
      const xml = '<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>1.2</xdsb:RepositoryUniqueId></xdsb:DocumentRequest><xdsb:DocumentRequest><xdsb:DocumentUniqueId>1.3</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>';
      expect(() => parseRetrieveDocumentSetRequest(xml)).to.throw(XdsFormatError).with.property('problems').that.deep.equals(['DocumentRequest 1: no DocumentUniqueId', 'DocumentRequest 2: no RepositoryUniqueId']);
      expect(() => parseRetrieveDocumentSetRequest('<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"/>')).to.throw(XdsFormatError, /no DocumentRequest/);
    });
  });

  describe('RetrieveDocumentSetResponse', () => {
    it('writes the RegistryResponse then a DocumentResponse per document whose content is an xop:Include, and reads it back', () => {
      const xml = retrieveDocumentSetResponseXml({ status: 'Success', errors: [], documents: [{ ...CDA_REQUEST, mimeType: 'text/xml', contentId: 'doc.1@sandbox' }] });
      expect(xml).to.contain('<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>');
      expect(xml).to.match(/<xdsb:mimeType>text\/xml<\/xdsb:mimeType>\s*<xdsb:Document>\s*<xop:Include href="cid:doc\.1@sandbox"\/>\s*<\/xdsb:Document>/);
      expect(parseRetrieveDocumentSetResponse(xml)).to.deep.equal({ status: 'Success', errors: [], documents: [{ ...CDA_REQUEST, mimeType: 'text/xml', include: 'cid:doc.1@sandbox' }] });
    });

    it('reads inline base64 content, a partial success with its errors, and a failure without documents', () => {
      const xml = `<x:RetrieveDocumentSetResponse xmlns:x="urn:ihe:iti:xds-b:2007"><RegistryResponse xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"><RegistryErrorList><RegistryError errorCode="XDSDocumentUniqueIdError" codeContext="1.2.9 inconnu" location="1.2.9" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></RegistryErrorList></RegistryResponse>
        <x:DocumentResponse><x:RepositoryUniqueId>${REPOSITORY_ID}</x:RepositoryUniqueId><x:DocumentUniqueId>1.2.3</x:DocumentUniqueId><x:mimeType>text/xml</x:mimeType><x:Document>PENsaW5pY2FsRG9jdW1lbnQv
        Pg==</x:Document></x:DocumentResponse></x:RetrieveDocumentSetResponse>`;
      expect(parseRetrieveDocumentSetResponse(xml)).to.deep.equal({
        status: 'PartialSuccess',
        errors: [{ errorCode: 'XDSDocumentUniqueIdError', codeContext: '1.2.9 inconnu', severity: 'Error', location: '1.2.9' }],
        documents: [{ repositoryUniqueId: REPOSITORY_ID, documentUniqueId: '1.2.3', mimeType: 'text/xml', inline: Buffer.from('<ClinicalDocument/>') }],
      });
      const failure = retrieveDocumentSetResponseXml({ status: 'Failure', errors: [{ errorCode: 'XDSMissingDocument', codeContext: 'absent', severity: 'Error' }], documents: [] });
      expect(parseRetrieveDocumentSetResponse(failure)).to.deep.equal({ status: 'Failure', errors: [{ errorCode: 'XDSMissingDocument', codeContext: 'absent', severity: 'Error' }], documents: [] });
    });

    it('reports every incomplete DocumentResponse and a missing RegistryResponse', () => {
      const xml = '<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.3</xdsb:DocumentUniqueId></xdsb:DocumentResponse></xdsb:RetrieveDocumentSetResponse>';
      expect(() => parseRetrieveDocumentSetResponse(xml)).to.throw(XdsFormatError).with.property('problems').that.deep.equals([
        'RetrieveDocumentSetResponse: no RegistryResponse', 'DocumentResponse 1: no mimeType', 'DocumentResponse 1: no Document',
      ]);
    });
  });
});
