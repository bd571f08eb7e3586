import { expect } from 'chai';
import type { RegistryResponse } from '../../src/xds/model.js';
import { parseRegistryResponse, registryResponseXml } from '../../src/xds/registry-response.js';
import { XdsFormatError } from '../../src/xds/xml-read.js';

const response = (attributes: string, errors = ''): string =>
  `<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" ${attributes}>${errors}</rs:RegistryResponse>`;

describe('ebRS RegistryResponse', () => {
  it('writes the status URN and the RegistryErrorList with its highest severity, and reads them back', () => {
    const failure: RegistryResponse = {
      status: 'Failure',
      errors: [
        { errorCode: 'XDSPatientIdDoesNotMatch', codeContext: 'patientId differs', severity: 'Error', location: 'urn:uuid:9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f' },
        { errorCode: 'XDSRegistryError', codeContext: 'slot ignored', severity: 'Warning' },
      ],
    };
    const xml = registryResponseXml(failure);
    expect(xml).to.contain('status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"');
    expect(xml).to.contain('<rs:RegistryErrorList highestSeverity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error">');
    expect(parseRegistryResponse(xml)).to.deep.equal(failure);
    for (const status of ['Success', 'PartialSuccess'] as const) expect(parseRegistryResponse(registryResponseXml({ status, errors: [] }))).to.deep.equal({ status, errors: [] });
    expect(registryResponseXml({ status: 'PartialSuccess', errors: [] })).to.contain('urn:ihe:iti:2007:ResponseStatusType:PartialSuccess');
  });

  it('reads a RegistryResponse in a SOAP Body, an error without severity as an Error, and the codeContext from the text when the attribute is missing', () => {
    const xml = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header/><env:Body>${response('status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"', '<rs:RegistryErrorList><rs:RegistryError errorCode="XDSRegistryBusy"> Registre occupé </rs:RegistryError><rs:RegistryError errorCode="XDSUnknownPatientId" codeContext="INS inconnu" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"/></rs:RegistryErrorList>')}</env:Body></env:Envelope>`;
    expect(parseRegistryResponse(xml)).to.deep.equal({
      status: 'Failure',
      errors: [
        { errorCode: 'XDSRegistryBusy', codeContext: 'Registre occupé', severity: 'Error' },
        { errorCode: 'XDSUnknownPatientId', codeContext: 'INS inconnu', severity: 'Warning' },
      ],
    });
  });

  it('refuses an unknown or missing status and an error without errorCode, naming each', () => {
    expect(() => parseRegistryResponse(response('status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Unknown"'))).to.throw(XdsFormatError, 'RegistryResponse: the status urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Unknown is not a RegistryResponse status');
    expect(() => parseRegistryResponse(response('', '<rs:RegistryErrorList><rs:RegistryError codeContext="x"/></rs:RegistryErrorList>')))
      .to.throw(XdsFormatError).with.property('problems').that.deep.equals(['RegistryResponse: the status attribute is missing', 'RegistryResponse: RegistryError 1 has no errorCode']);
    expect(() => parseRegistryResponse('<html><body>502 Bad Gateway</body></html>')).to.throw(XdsFormatError, /no RegistryResponse or AdhocQueryResponse element/);
  });
});
