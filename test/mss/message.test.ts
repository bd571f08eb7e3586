import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { zipSync } from 'fflate';
import { simpleParser, type ParsedMail } from 'mailparser';
import { readCdaHeader, type CdaHeader } from '../../src/cda/read-header.js';
import { PasserelleError } from '../../src/domain/errors.js';
import { buildMssMessage, describeReport, isMessageId, messageIdOf, readHeaderFields, stableMessageId, type MssMessageOptions } from '../../src/transports/mss/message.js';

const CDA = readFileSync(new URL('../../fixtures/cda/teleconsultation.tlm-cr.xml', import.meta.url));
const FROM = 'passerelle@ch-demo.mssante.fr';
const TO = ['bernard.vacquier@medecin.mssante.fr', 'cardio@chu-exemple.mssante.fr'];
const PDF = Buffer.from('%PDF-1.4\n% a report\n%%EOF\n', 'latin1');
const DATE = new Date('2026-11-20T15:00:00Z');

/** An archive with the CDA where XDM puts it: the bytes only have to survive the trip. */
const xdm = (): Buffer => Buffer.from(zipSync({ 'IHE_XDM/SUBSET01/DOC0001.XML': new Uint8Array(CDA), 'IHE_XDM/SUBSET01/METADATA.XML': new TextEncoder().encode('<rs:SubmitObjectsRequest/>') }));

function options(header: CdaHeader, overrides: Partial<MssMessageOptions> = {}): MssMessageOptions {
  const { subject, bodyText } = describeReport({ documentType: header.code.displayName ?? '', actDate: header.serviceEvents[0]?.low ?? header.effectiveTime, structureName: header.custodian.name ?? '', pdfAttached: true });
  return {
    from: FROM,
    fromName: 'Télémédecine CH de démonstration',
    to: TO,
    messageId: stableMessageId('sub_01JD0000000000000000000000', 'ch-demo.mssante.fr'),
    subject,
    bodyText,
    xdm: xdm(),
    pdf: { content: PDF, fileName: 'compte-rendu.pdf' },
    cdaCodes: [header.code.code],
    extraHeaders: { 'X-MSS-INS': 'O', 'X-MSS-NIL': 'DEV935997' },
    dispositionNotificationTo: FROM,
    date: DATE,
    ...overrides,
  };
}

/** How the patient of the fixture could show: names, INS, birth date in the formats people write it. */
function patientTraits(header: CdaHeader): string[] {
  const birth = header.patient.birthTime;
  const [y, m, d] = [birth.slice(0, 4), birth.slice(4, 6), birth.slice(6, 8)];
  return [
    ...header.patient.name.family.map((p) => p.value),
    ...header.patient.name.given.map((p) => p.value),
    ...header.patient.ids.map((id) => id.extension ?? ''),
    birth.slice(0, 8), `${d}/${m}/${y}`, `${y}-${m}-${d}`, `${d}.${m}.${y}`,
  ].filter((t) => t.length >= 3);
}

describe('the MSSanté message of a report', () => {
  const header = readCdaHeader(CDA);
  let raw: Buffer;
  let parsed: ParsedMail;
  before(async () => {
    raw = await buildMssMessage(options(header));
    parsed = await simpleParser(raw);
  });

  it('parses with a standard MIME parser: from the BAL applicative to the recipients, with its stable Message-ID and date', () => {
    expect(parsed.from?.value).to.deep.equal([{ address: FROM, name: 'Télémédecine CH de démonstration' }]);
    const to = Array.isArray(parsed.to) ? parsed.to.flatMap((a) => a.value) : parsed.to?.value ?? [];
    expect(to.map((a) => a.address)).to.deep.equal(TO);
    expect(parsed.messageId).to.equal('<sub_01JD0000000000000000000000@ch-demo.mssante.fr>');
    expect(parsed.date?.toISOString()).to.equal(DATE.toISOString());
    expect(messageIdOf(raw)).to.equal(parsed.messageId);
  });

  it('carries the XDM archive as IHE_XDM.ZIP (application/zip) and the PDF alongside, byte for byte', () => {
    expect(parsed.attachments.map((a) => [a.filename, a.contentType])).to.deep.equal([['IHE_XDM.ZIP', 'application/zip'], ['compte-rendu.pdf', 'application/pdf']]);
    expect(parsed.attachments[0]?.content.equals(xdm())).to.equal(true);
    expect(parsed.attachments[1]?.content.equals(PDF)).to.equal(true);
    expect(parsed.attachments.every((a) => a.contentDisposition === 'attachment')).to.equal(true);
  });

  it('leaves the PDF out when asked to', async () => {
    const { pdf: _pdf, ...withoutPdf } = options(header);
    const mail = await simpleParser(await buildMssMessage(withoutPdf));
    expect(mail.attachments.map((a) => a.filename)).to.deep.equal(['IHE_XDM.ZIP']);
  });

  it('writes X-MSS-CODECDA with the CDA code, the configured X-MSS-* headers as spelled, and Disposition-Notification-To', () => {
    const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
    expect(head).to.match(/^X-MSS-CODECDA: 85208-7$/m);
    expect(head).to.match(/^X-MSS-INS: O$/m);
    expect(head).to.match(/^X-MSS-NIL: DEV935997$/m);
    expect(head).to.match(/^Disposition-Notification-To: <passerelle@ch-demo\.mssante\.fr>$/m);
    expect(parsed.headers.get('x-mss-codecda')).to.equal('85208-7');
  });

  it('writes the codes of several CDAs in one X-MSS-CODECDA, and none without a CDA', async () => {
    const several = readHeaderFields((await buildMssMessage(options(header, { cdaCodes: ['85208-7', '85208-7', '11488-4'] }))).toString('latin1'));
    expect(several.filter((f) => f.name === 'x-mss-codecda').map((f) => f.value)).to.deep.equal(['85208-7,85208-7,11488-4']);
    const none = readHeaderFields((await buildMssMessage(options(header, { cdaCodes: [] }))).toString('latin1'));
    expect(none.map((f) => f.name)).to.not.include('x-mss-codecda');
  });

  it('puts no patient name, INS or birth date in the subject, nor anywhere in the headers or the body text', () => {
    const traits = patientTraits(header);
    expect(traits.length).to.be.greaterThan(5);
    const head = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
    for (const trait of traits) {
      expect(parsed.subject ?? '', trait).to.not.include(trait);
      expect(head, trait).to.not.include(trait);
      expect(parsed.text ?? '', trait).to.not.include(trait);
    }
    expect(parsed.subject).to.equal("Compte-rendu d'acte de télémédecine - CENTRE HOSPITALIER DE DEMONSTRATION");
  });

  it('says in the body which document, of which act date, from which structure, and where the patient is identified', () => {
    expect(parsed.text).to.include("« Compte-rendu d'acte de télémédecine » de l'acte du 20/11/2026, établi par CENTRE HOSPITALIER DE DEMONSTRATION.");
    expect(parsed.text).to.include('IHE_XDM.ZIP');
    expect(parsed.text).to.include('METADATA.XML');
    expect(parsed.text).to.include('copie PDF');
    // The report's own title may say more than its type: it is not used.
    expect(`${parsed.subject ?? ''} ${parsed.text ?? ''}`).to.not.include(header.title);
  });

  it('says when the document replaces an earlier one', () => {
    const d = describeReport({ documentType: 'Compte rendu', actDate: '2026-11-20T14:05:00+01:00', structureName: 'CH  X', pdfAttached: false, replacement: true });
    expect(d.subject).to.equal('Nouvelle version : Compte rendu - CH X');
    expect(d.bodyText).to.include('remplace la précédente');
    expect(d.bodyText).to.not.include('PDF');
  });

  it('ends its lines with CRLF, as SMTP wants, and stays 7-bit', () => {
    expect(raw.toString('latin1').replace(/\r\n/g, '')).to.not.match(/[\r\n]/);
    expect(raw.every((byte) => byte < 0x80)).to.equal(true);
  });

  it('derives the Message-ID from the submission id, the same every time', () => {
    expect(stableMessageId('sub_01JD0000000000000000000000', 'CH-Demo.mssante.fr')).to.equal('<sub_01JD0000000000000000000000@ch-demo.mssante.fr>');
    expect(stableMessageId('sub_X', 'a.fr')).to.equal(stableMessageId('sub_X', 'a.fr'));
    expect(() => stableMessageId('sub X', 'a.fr')).to.throw(PasserelleError);
    expect(() => stableMessageId('sub_X', 'a..fr')).to.throw(PasserelleError);
    expect(isMessageId('<a.b@c.d>')).to.equal(true);
    for (const bad of ['a@b', '<a@b', '<@b>', '<a@b@c>', '<a b@c>']) expect(isMessageId(bad), bad).to.equal(false);
  });

  it('refuses options that would break the message or inject headers', async () => {
    const refused = async (overrides: Partial<MssMessageOptions>): Promise<string> => {
      try {
        await buildMssMessage(options(header, overrides));
      } catch (error) {
        expect(error).to.be.instanceOf(PasserelleError).with.property('code', 'config-invalid');
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    await refused({ to: [] });
    await refused({ to: ['not an address'] });
    await refused({ from: 'x' });
    await refused({ subject: 'a\r\nBcc: x@y.fr' });
    await refused({ messageId: 'no-brackets@x' });
    await refused({ extraHeaders: { 'X-Other': 'v' } });
    await refused({ extraHeaders: { 'X-MSS-CODECDA': 'v' } });
    await refused({ extraHeaders: { 'X-MSS-INS': 'O\r\nBcc: x@y.fr' } });
    await refused({ cdaCodes: ['a,b'] });
    await refused({ pdf: { content: PDF, fileName: '../etc/passwd.pdf' } });
    expect(await refused({ dispositionNotificationTo: 'nobody' })).to.include('Disposition-Notification-To');
  });
});
