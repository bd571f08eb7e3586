import { expect } from 'chai';
import { readXmlInput } from '../../src/validation/xml-input.js';

describe('reading an XML input', () => {
  it('reads a document declared ISO-8859-1, flagging that the CI-SIS wants UTF-8', () => {
    const result = readXmlInput(Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><a>\xe9t\xe9</a>', 'latin1'), 'latin1.xml');
    expect(result.ok).to.equal(true);
    if (result.ok) {
      expect(result.document.documentElement?.textContent).to.equal('été');
      expect(result.issues.map((i) => `${i.severity} ${i.rule ?? ''}`)).to.deep.equal(['error INPUT_ENCODING_NOT_UTF8']);
    }
  });

  it('refuses UTF-16 and encodings it cannot read, naming them', () => {
    const utf16 = readXmlInput(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')]), 'u16.xml');
    expect(utf16.issues.map((i) => i.rule)).to.deep.equal(['INPUT_UTF16']);
    const ebcdic = readXmlInput(Buffer.from('<?xml version="1.0" encoding="EBCDIC-CP-US"?><a/>'), 'e.xml');
    expect(ebcdic.issues[0]?.message).to.contain('ebcdic-cp-us');
  });

  it('locates a well-formedness error', () => {
    const result = readXmlInput(Buffer.from('<a>\n  <b></c>\n</a>'), 'bad.xml');
    expect(result.ok).to.equal(false);
    expect(result.issues[0]).to.include({ rule: 'INPUT_NOT_WELL_FORMED', line: 2 });
  });
});
