import { DOMParser } from '@xmldom/xmldom';
import { expect } from 'chai';
import { signVihf, verifyVihf, type VihfAttributes } from '../../src/signing/vihf.js';
import {
  PASSERELLE_FAULT_NS, SOAP12_NS, WSA_ANONYMOUS, WSA_FAULT_ACTION, WSA_NS, WSSE_NS, newMessageId, parseSoapEnvelope, soapEnvelope, soapFaultXml,
} from '../../src/transports/soap/envelope.js';
import { TransportError, soapFaultError } from '../../src/transports/soap/transport-error.js';
import { testSigner, xmlsecVerify, type TestSigner } from '../support/signing.js';
import { requireTool } from '../support/tools.js';

const VIHF_ATTRIBUTES: VihfAttributes = {
  version: '3.0',
  nameId: '801234567890',
  subjectId: 'Passerelle (traitement automatisé)',
  roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7', displayName: 'Médecin' }],
  purposeOfUse: { code: 'normal', codeSystem: '1.2.250.1.213.1.1.4.248' },
  structureId: '1750803447',
  sector: 'SA07^1.2.250.1.71.4.2.4',
  authenticationMode: 'INDIRECTE',
  authnContext: 'unspecified',
  lps: { name: 'Passerelle', homologationId: 'TEST-HOMOLOGATION' },
};
const ITI_18 = 'urn:ihe:iti:2007:RegistryStoredQuery';
const TO = 'https://dmp.example/si-dmp-server/v2/services/registry';
const BODY = '<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"><query:ResponseOption returnType="LeafClass"/></query:AdhocQueryRequest>';

/** Elements by namespace and local name, read by an independent parser (xmldom). */
function dom(xml: string): Document {
  const errors: string[] = [];
  const document = new DOMParser({ errorHandler: { warning: () => undefined, error: (m: string) => errors.push(m), fatalError: (m: string) => errors.push(m) } }).parseFromString(xml, 'application/xml');
  expect(errors, 'the envelope is well-formed').to.deep.equal([]);
  return document;
}
const elements = (node: Document | Element, ns: string, name: string): Element[] => Array.from(node.getElementsByTagNameNS(ns, name));
const one = (node: Document | Element, ns: string, name: string): Element => {
  const found = elements(node, ns, name);
  expect(found, `${name} in ${ns}`).to.have.length(1);
  return found[0]!;
};

const expectMalformed = (fn: () => unknown, reason: RegExp, kind = 'malformed-response'): void => {
  expect(fn).to.throw(TransportError, reason).with.property('kind', kind);
};

describe('SOAP 1.2 envelopes', function () {
  this.timeout(60_000);
  let signer: TestSigner;
  const now = new Date();
  before(() => { signer = testSigner(); });
  after(() => { signer?.remove(); });

  describe('writing', () => {
    it('writes WS-Addressing 1.0 headers: Action and To must be understood, a urn:uuid MessageID, ReplyTo anonymous', () => {
      const messageId = newMessageId();
      const xml = soapEnvelope({ action: ITI_18, to: TO, messageId, bodyXml: BODY });
      expect(xml).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
      const document = dom(xml);
      const envelope = document.documentElement;
      expect([envelope.namespaceURI, envelope.localName]).to.deep.equal([SOAP12_NS, 'Envelope']);
      const header = one(document, SOAP12_NS, 'Header');
      const action = one(header, WSA_NS, 'Action');
      expect(action.textContent).to.equal(ITI_18);
      expect(action.getAttributeNS(SOAP12_NS, 'mustUnderstand')).to.equal('true');
      const to = one(header, WSA_NS, 'To');
      expect(to.textContent).to.equal(TO);
      expect(to.getAttributeNS(SOAP12_NS, 'mustUnderstand')).to.equal('true');
      expect(one(header, WSA_NS, 'MessageID').textContent).to.equal(messageId).and.to.match(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(one(one(header, WSA_NS, 'ReplyTo'), WSA_NS, 'Address').textContent).to.equal(WSA_ANONYMOUS);
      expect(elements(header, WSSE_NS, 'Security')).to.have.length(0);
      const body = one(document, SOAP12_NS, 'Body');
      expect(body.firstChild?.nodeName).to.equal('query:AdhocQueryRequest');
    });

    it('inserts the body as it is, even with text a string replacement would treat as a pattern', () => {
      const body = '<x:R xmlns:x="urn:x">$&amp; $\' $` $1 $$</x:R>';
      const xml = soapEnvelope({ action: ITI_18, to: TO, messageId: newMessageId(), bodyXml: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` });
      expect(xml).to.contain(`<soap:Body>${body}</soap:Body>`);
    });

    it('escapes the action and the address it writes', () => {
      const xml = soapEnvelope({ action: 'urn:a&b<c', to: 'https://x.example/?a=1&b=2', messageId: newMessageId(), bodyXml: BODY });
      expect(xml).to.contain('urn:a&amp;b&lt;c').and.to.contain('?a=1&amp;b=2');
      expect(parseSoapEnvelope(xml).action).to.equal('urn:a&b<c');
    });

    it('refuses a MessageID that is not urn:uuid', () => {
      expect(() => soapEnvelope({ action: ITI_18, to: TO, messageId: 'uuid:1234', bodyXml: BODY })).to.throw(/urn:uuid/);
    });

    it('writes a reply with RelatesTo and without ReplyTo nor To', () => {
      const request = newMessageId();
      const parsed = parseSoapEnvelope(soapEnvelope({ action: `${ITI_18}Response`, messageId: newMessageId(), relatesTo: request, bodyXml: BODY }));
      expect(parsed.relatesTo).to.equal(request);
      expect(parsed.xml).not.to.contain('ReplyTo').and.not.to.contain('wsa:To');
    });
  });

  describe('the VIHF in WS-Security', () => {
    const envelopeWithVihf = (): { xml: string; assertion: string } => {
      const assertion = signVihf(VIHF_ATTRIBUTES, signer.identity, { now, validitySeconds: 300 }).toString('utf8');
      return { assertion, xml: soapEnvelope({ action: ITI_18, to: TO, messageId: newMessageId(), security: assertion, bodyXml: BODY }) };
    };

    it('puts the signed assertion, byte for byte, in a wsse:Security header that must be understood', () => {
      const { xml, assertion } = envelopeWithVihf();
      const bare = assertion.replace(/^<\?xml[^>]*\?>\s*/, '');
      expect(xml).to.contain(bare);
      const security = one(dom(xml), WSSE_NS, 'Security');
      expect(security.getAttributeNS(SOAP12_NS, 'mustUnderstand')).to.equal('true');
      expect((security.firstChild as Element).localName).to.equal('Assertion');
    });

    it('reads back the exact text of the assertion, whose signature still verifies', () => {
      const { xml, assertion } = envelopeWithVihf();
      const parsed = parseSoapEnvelope(xml);
      expect(parsed.securityXml).to.equal(assertion.replace(/^<\?xml[^>]*\?>\s*/, ''));
      const verified = verifyVihf(Buffer.from(parsed.securityXml ?? ''), signer.trust, now);
      expect(verified.nameId).to.equal(VIHF_ATTRIBUTES.nameId);
    });

    it('keeps the signature valid in the envelope, for xmlsec1', function () {
      requireTool(this, 'xmlsec1', 'xmlsec1');
      const result = xmlsecVerify(Buffer.from(envelopeWithVihf().xml), signer.rootFile);
      expect(result.ok, result.output).to.equal(true);
    });

    it('adds to the assertion read the namespace declarations it takes from the envelope, and nothing else', () => {
      const partner = `<S:Envelope xmlns:S="${SOAP12_NS}" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:unused="urn:unused"><S:Header><Security xmlns="${WSSE_NS}"><saml:Assertion ID="_1"><saml:Issuer>x</saml:Issuer></saml:Assertion></Security></S:Header><S:Body/></S:Envelope>`;
      expect(parseSoapEnvelope(partner).securityXml).to.equal('<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_1"><saml:Issuer>x</saml:Issuer></saml:Assertion>');
    });
  });

  describe('reading what partners send', () => {
    it('accepts any prefix, a default namespace, comments, and decodes references in the values it reads', () => {
      const xml = `<?xml version="1.0"?><!-- reply --><Envelope xmlns="${SOAP12_NS}"><Header><a:Action xmlns:a="${WSA_NS}" mustUnderstand="1">urn:ihe:iti:2007:RegistryStoredQueryResponse</a:Action><a:MessageID xmlns:a="${WSA_NS}">urn:uuid:&#x41;1</a:MessageID><a:RelatesTo xmlns:a="${WSA_NS}" RelationshipType="${WSA_NS}/reply"> urn:uuid:req&amp;1 </a:RelatesTo></Header><Body><x/></Body></Envelope><!-- end -->`;
      const parsed = parseSoapEnvelope(xml);
      expect(parsed).to.include({ version: '1.2', action: 'urn:ihe:iti:2007:RegistryStoredQueryResponse', messageId: 'urn:uuid:A1', relatesTo: 'urn:uuid:req&1' });
      expect(parsed.fault).to.equal(undefined);
      expect(parsed.securityXml).to.equal(undefined);
    });

    it('reads a SOAP 1.2 fault: code, the Subcode chain, the first Reason, the Detail', () => {
      const xml = `<env:Envelope xmlns:env="${SOAP12_NS}" xmlns:wsse="${WSSE_NS}"><env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsse:InvalidSecurity</env:Value><env:Subcode><env:Value>d:VIHF_EXPIRED</env:Value></env:Subcode></env:Subcode></env:Code><env:Reason><env:Text xml:lang="fr">VIHF expir&#233;</env:Text><env:Text xml:lang="en">VIHF expired</env:Text></env:Reason><env:Detail><d:Error xmlns:d="urn:dmp">E-42</d:Error></env:Detail></env:Fault></env:Body></env:Envelope>`;
      expect(parseSoapEnvelope(xml).fault).to.deep.equal({ code: 'Sender', subcodes: ['InvalidSecurity', 'VIHF_EXPIRED'], reason: 'VIHF expiré', detail: '<d:Error xmlns:d="urn:dmp">E-42</d:Error>' });
    });

    it('recognises a SOAP 1.1 envelope and reads its faultcode, faultstring and detail', () => {
      const xml = '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Internal &lt;error&gt;</faultstring><detail>busy</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>';
      const parsed = parseSoapEnvelope(xml);
      expect(parsed.version).to.equal('1.1');
      expect(parsed.fault).to.deep.equal({ code: 'Server', subcodes: [], reason: 'Internal <error>', detail: 'busy' });
    });

    it('writes faults for the sandbox that read back the same, with RelatesTo and the WS-Addressing fault action', () => {
      const fault = { code: 'Sender', subcodes: ['InvalidSecurity'], reason: 'the VIHF signature <does not> verify', detail: 'reference #_1 & digest' } as const;
      const requestId = newMessageId();
      const xml = soapFaultXml(fault, requestId);
      const parsed = parseSoapEnvelope(xml);
      expect(parsed.fault).to.deep.equal(fault);
      expect(parsed.relatesTo).to.equal(requestId);
      expect(parsed.action).to.equal(WSA_FAULT_ACTION);
      const value = one(one(dom(xml), SOAP12_NS, 'Subcode'), SOAP12_NS, 'Value');
      expect(value.lookupNamespaceURI('pf')).to.equal(PASSERELLE_FAULT_NS);
    });

    it('classifies a fault: Receiver or Server may pass later, Sender, Client and the others will not', () => {
      const fault = (code: string) => ({ code, subcodes: [], reason: 'r' });
      for (const code of ['Receiver', 'Server']) expect(soapFaultError(fault(code), 500)).to.include({ kind: 'soap-fault', retryable: true, code: 'partner-unavailable', httpStatus: 500 });
      for (const code of ['Sender', 'Client', 'MustUnderstand', 'VersionMismatch']) expect(soapFaultError(fault(code), 500)).to.include({ retryable: false, code: 'partner-rejected' });
    });

    it('refuses a DOCTYPE, an undefined entity, a root that is no Envelope, an unknown namespace, no Body, a truncated envelope', () => {
      const ok = soapEnvelope({ action: ITI_18, to: TO, messageId: newMessageId(), bodyXml: BODY });
      expectMalformed(() => parseSoapEnvelope(ok.replace('<soap:Envelope', '<!DOCTYPE x [<!ENTITY e "e">]><soap:Envelope')), /DOCTYPE/);
      expectMalformed(() => parseSoapEnvelope(ok.replace(ITI_18, '&e;')), /not a predefined entity/);
      expectMalformed(() => parseSoapEnvelope('<html><body>502 Bad Gateway</body></html>'), /root is html, not one SOAP Envelope/);
      expectMalformed(() => parseSoapEnvelope(''), /root is missing/);
      expectMalformed(() => parseSoapEnvelope('<e:Envelope xmlns:e="urn:other"><e:Body/></e:Envelope>'), /namespace is urn:other/);
      expectMalformed(() => parseSoapEnvelope(`<e:Envelope xmlns:e="${SOAP12_NS}"><e:Header/></e:Envelope>`), /no Body/);
      expectMalformed(() => parseSoapEnvelope(ok.slice(0, -20)), /not closed/);
      expectMalformed(() => parseSoapEnvelope(`${ok}<soap:Envelope/>`), /not one SOAP Envelope|not closed/);
    });

    it('bounds the envelope it reads', () => {
      const ok = soapEnvelope({ action: ITI_18, to: TO, messageId: newMessageId(), bodyXml: BODY });
      expect(parseSoapEnvelope(ok, ok.length).action).to.equal(ITI_18);
      expectMalformed(() => parseSoapEnvelope(ok, ok.length - 1), /over/, 'response-too-large');
    });
  });
});
