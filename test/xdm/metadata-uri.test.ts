import { expect } from 'chai';
import fc from 'fast-check';
import { parseSubmitObjectsRequest, submitObjectsRequestXml } from '../../src/xds/ebrim.js';
import { XdsFormatError } from '../../src/xds/xml-read.js';
import { documentEntry, metadataText, submission, submissionArbitrary } from '../support/xds.js';

describe('the URI slot of a DocumentEntry (XDM)', () => {
  it('is written as the slot URI and read back', () => {
    const model = submission({ documentEntries: [documentEntry({ uri: 'DOC0001.XML' })] });
    const xml = submitObjectsRequestXml(model);
    expect(xml).to.match(/<rim:Slot name="URI">\s*<rim:ValueList>\s*<rim:Value>DOC0001\.XML<\/rim:Value>/);
    expect(parseSubmitObjectsRequest(xml)).to.deep.equal(model);
  });

  it('is not written when the entry has none (XDS.b), and is absent when read back', () => {
    const xml = submitObjectsRequestXml(submission());
    expect(xml).not.to.contain('name="URI"');
    expect(parseSubmitObjectsRequest(xml).documentEntries[0]).not.to.have.property('uri');
  });

  it('reads the numbered pieces of a long URI (XDS.a) in the order of their numbers', () => {
    const xml = submitObjectsRequestXml(submission({ documentEntries: [documentEntry({ uri: 'SLOT' })] }))
      .replace('<rim:Value>SLOT</rim:Value>', '<rim:Value>2|/DOC0001.XML</rim:Value><rim:Value>1|IHE_XDM/SUBSET01</rim:Value>');
    expect(parseSubmitObjectsRequest(xml).documentEntries[0]?.uri).to.equal('IHE_XDM/SUBSET01/DOC0001.XML');
  });

  it('refuses several values that are not numbered pieces', () => {
    const xml = submitObjectsRequestXml(submission({ documentEntries: [documentEntry({ uri: 'SLOT' })] }))
      .replace('<rim:Value>SLOT</rim:Value>', '<rim:Value>DOC0001.XML</rim:Value><rim:Value>DOC0002.PDF</rim:Value>');
    expect(() => parseSubmitObjectsRequest(xml)).to.throw(XdsFormatError, 'the slot URI has 2 values that are not numbered pieces');
  });

  it('round-trips with any other metadata (property)', () => {
    const withUris = submissionArbitrary.chain((model) => fc.tuple(...model.documentEntries.map(() => metadataText)).map((uris) => ({
      ...model,
      documentEntries: model.documentEntries.map((e, i) => ({ ...e, uri: uris[i] ?? 'DOC0001.XML' })),
    })));
    fc.assert(fc.property(withUris, (model) => {
      expect(parseSubmitObjectsRequest(submitObjectsRequestXml(model))).to.deep.equal(model);
    }), { numRuns: 200 });
  });
});
