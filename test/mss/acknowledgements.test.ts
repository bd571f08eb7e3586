import { expect } from 'chai';
import { simpleParser } from 'mailparser';
import { buildDsn, buildMdn, parseAcknowledgement, parseDisposition, type DsnAcknowledgement, type MdnAcknowledgement } from '../../src/transports/mss/acknowledgements.js';
import { buildMssMessage } from '../../src/transports/mss/message.js';

const ORIGINAL_ID = '<sub_01JD0000000000000000000000@ch-demo.mssante.fr>';
const BAL = 'passerelle@ch-demo.mssante.fr';
const DOCTOR = 'bernard.vacquier@medecin.mssante.fr';
const DATE = new Date('2026-11-20T15:00:00Z');

const crlf = (lines: readonly string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

async function mdn(raw: Buffer): Promise<MdnAcknowledgement> {
  const ack = await parseAcknowledgement(raw);
  expect(ack?.kind).to.equal('mdn');
  return ack as MdnAcknowledgement;
}

async function dsn(raw: Buffer): Promise<DsnAcknowledgement> {
  const ack = await parseAcknowledgement(raw);
  expect(ack?.kind).to.equal('dsn');
  return ack as DsnAcknowledgement;
}

/** An MDN the way a French receiving system writes one (struct-msg-mdn.md): no space after "Disposition:", the error in the modifier, 8bit. */
const FRENCH_ERROR_MDN = crlf([
  'Date: Fri, 20 Nov 2026 16:19:00 +0100',
  `From: ${DOCTOR}`,
  `Message-ID: <20261120161900.4242@medecin.mssante.fr>`,
  'Subject: =?UTF-8?Q?[KO_Int=C3=A9gration_syst=C3=A8me_!][902]_Compte_rendu?=',
  `To: ${BAL}`,
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=disposition-notification;',
  ' boundary="RAA14128.773615765"',
  '',
  '--RAA14128.773615765',
  'Content-Type: text/plain; charset="UTF-8"',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Le document n’a pas pu être intégré.',
  '',
  '--RAA14128.773615765',
  'Content-Type: message/disposition-notification',
  'Content-Transfer-Encoding: 8bit',
  '',
  `Original-Recipient: rfc822;${DOCTOR}`,
  `Final-Recipient: rfc822;${DOCTOR}`,
  `Original-Message-ID: ${ORIGINAL_ID}`,
  'Disposition:automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant de patient inconnu^messageErrorCondition| E^Error^errorSeverity',
  '',
  '--RAA14128.773615765',
  'Content-Type: message/rfc822',
  '',
  `Message-ID: ${ORIGINAL_ID}`,
  'Subject: Compte rendu',
  '',
  'corps',
  '',
  '--RAA14128.773615765--',
  '',
]);

describe('MSSanté acknowledgements (MDN, DSN)', () => {
  describe('reading MDNs', () => {
    it('reads the French error MDN: which message, which recipient, processed with error 902 and its label', async () => {
      const ack = await mdn(FRENCH_ERROR_MDN);
      expect(ack).to.deep.include({
        originalMessageId: ORIGINAL_ID,
        finalRecipient: DOCTOR,
        originalRecipient: DOCTOR,
        actionMode: 'automatic-action',
        sendingMode: 'MDN-sent-automatically',
        disposition: 'processed',
        modifiers: ['error'],
        failed: true,
        errorCode: '902',
        errorText: 'Identifiant de patient inconnu',
        error: '902^Identifiant de patient inconnu^messageErrorCondition| E^Error^errorSeverity',
      });
    });

    it('reads RFC 8098 and RFC 3798 forms: a bare error modifier, a separate Error field, a folded Disposition', async () => {
      const report = (fields: readonly string[]): Buffer => crlf([
        `From: ${DOCTOR}`, `To: ${BAL}`, 'Subject: MDN', 'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type="disposition-notification"; boundary=b', '',
        '--b', 'Content-Type: text/plain', '', 'vu', '--b', 'Content-Type: message/disposition-notification', '', ...fields, '', '--b--', '',
      ]);
      const bare = await mdn(report([`Final-Recipient: rfc822; ${DOCTOR}`, `Original-Message-ID: ${ORIGINAL_ID}`, 'Disposition: manual-action/MDN-sent-manually; displayed/error', 'Error: the viewer crashed']));
      expect(bare).to.deep.include({ disposition: 'displayed', actionMode: 'manual-action', modifiers: ['error'], failed: true, error: 'the viewer crashed', errorText: 'the viewer crashed' });
      expect(bare.errorCode).to.equal(undefined);
      const folded = await mdn(report([`Final-Recipient: rfc822;${DOCTOR}`, `Original-Message-ID: ${ORIGINAL_ID}`, 'Disposition: automatic-action/', ' MDN-sent-automatically; processed']));
      expect(folded).to.deep.include({ disposition: 'processed', sendingMode: 'MDN-sent-automatically', failed: false, modifiers: [] });
      const legacy = await mdn(report([`Final-Recipient: rfc822;${DOCTOR}`, `Original-Message-ID: ${ORIGINAL_ID}`, 'Disposition: automatic-action/MDN-sent-automatically; failed', 'Failure: unsupported format']));
      expect(legacy).to.deep.include({ disposition: 'failed', failed: true, error: 'unsupported format' });
    });

    it('finds the original Message-ID in the returned original when the MDN lacks Original-Message-ID', async () => {
      const raw = Buffer.from(FRENCH_ERROR_MDN.toString('utf8').replace(/^Original-Message-ID:.*\r\n/m, ''), 'utf8');
      expect((await mdn(raw)).originalMessageId).to.equal(ORIGINAL_ID);
    });

    it('reads an MDN whose disposition type it does not know as unknown, not as processed', () => {
      expect(parseDisposition('automatic-action/MDN-sent-automatically; archived')).to.deep.include({ type: 'unknown', modifiers: [] });
    });
  });

  describe('reading DSNs', () => {
    it('reads a Postfix-style bounce: the envelope id, each recipient\'s action, status and diagnostic, the original Message-ID', async () => {
      const raw = crlf([
        'From: MAILER-DAEMON@mx.mssante.example (Mail Delivery System)', `To: ${BAL}`, 'Subject: Undelivered Mail Returned to Sender', 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status;', '\tboundary="9B095B5ADSN=_1"', '',
        '--9B095B5ADSN=_1', 'Content-Description: Notification', 'Content-Type: text/plain; charset=us-ascii', '', 'I\'m sorry to have to inform you...', '',
        '--9B095B5ADSN=_1', 'Content-Description: Delivery report', 'Content-Type: message/delivery-status', '',
        'Reporting-MTA: dns; mx.mssante.example', 'X-Postfix-Queue-ID: 9B095B5A', 'Original-Envelope-Id: sub_01JD0000000000000000000000', 'Arrival-Date: Fri, 20 Nov 2026 16:00:00 +0100', '',
        `Final-Recipient: rfc822; ${DOCTOR}`, `Original-Recipient: rfc822;${DOCTOR}`, 'Action: failed', 'Status: 5.1.1', 'Remote-MTA: dns; mail.medecin.mssante.fr', 'Diagnostic-Code: smtp; 550 5.1.1 <bernard.vacquier@medecin.mssante.fr>:', '    Recipient address rejected: User unknown', '',
        'Final-Recipient: rfc822; other@ch-x.mssante.fr', 'Action: delayed', 'Status: 4.4.1 (connection timed out)', 'Will-Retry-Until: Mon, 23 Nov 2026 16:00:00 +0100', '',
        '--9B095B5ADSN=_1', 'Content-Description: Undelivered Message Headers', 'Content-Type: text/rfc822-headers', '', `Message-ID: ${ORIGINAL_ID}`, `From: ${BAL}`, 'Subject: Compte rendu', '',
        '--9B095B5ADSN=_1--', '',
      ]);
      const ack = await dsn(raw);
      expect(ack).to.deep.include({ originalMessageId: ORIGINAL_ID, envelopeId: 'sub_01JD0000000000000000000000', reportingMta: 'mx.mssante.example' });
      expect(ack.recipients).to.deep.equal([
        { finalRecipient: DOCTOR, originalRecipient: DOCTOR, action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 <bernard.vacquier@medecin.mssante.fr>: Recipient address rejected: User unknown', remoteMta: 'mail.medecin.mssante.fr' },
        { finalRecipient: 'other@ch-x.mssante.fr', action: 'delayed', status: '4.4.1', willRetryUntil: 'Mon, 23 Nov 2026 16:00:00 +0100' },
      ]);
    });
  });

  describe('what is not an acknowledgement', () => {
    it('returns nothing for a plain message, a report of another type, or a message that only carries a notification as an attachment', async () => {
      const report = await buildMssMessage({ from: BAL, to: [DOCTOR], messageId: ORIGINAL_ID, subject: 's', bodyText: 'b', xdm: Buffer.from('PK'), cdaCodes: [], date: DATE });
      expect(await parseAcknowledgement(report)).to.equal(undefined);
      const other = crlf(['From: a@b.fr', 'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=feedback-report; boundary=b', '', '--b', 'Content-Type: message/feedback-report', '', 'Feedback-Type: abuse', '--b--', '']);
      expect(await parseAcknowledgement(other)).to.equal(undefined);
      const forwarded = crlf(['From: a@b.fr', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'fwd', '--b', 'Content-Type: message/disposition-notification', '', `Final-Recipient: rfc822;${DOCTOR}`, 'Disposition: automatic-action/MDN-sent-automatically; processed', '--b--', '']);
      expect(await parseAcknowledgement(forwarded)).to.equal(undefined);
    });
  });

  describe('building them (the sandbox) and reading them back', () => {
    it('round-trips a processed MDN with the original returned as message/rfc822', async () => {
      const original = await buildMssMessage({ from: BAL, to: [DOCTOR], messageId: ORIGINAL_ID, subject: 'Compte rendu - CH', bodyText: 'b', xdm: Buffer.from('PK'), cdaCodes: ['85208-7'], dispositionNotificationTo: BAL, date: DATE });
      const raw = await buildMdn({ original: { messageId: ORIGINAL_ID, from: BAL, to: DOCTOR, subject: 'Compte rendu - CH', raw: original }, reportingUa: 'DPI de test', disposition: 'processed', date: DATE, messageId: '<mdn-1@medecin.mssante.fr>' });
      expect(await mdn(raw)).to.deep.equal({ kind: 'mdn', originalMessageId: ORIGINAL_ID, finalRecipient: DOCTOR, originalRecipient: DOCTOR, reportingUa: 'DPI de test', actionMode: 'automatic-action', sendingMode: 'MDN-sent-automatically', disposition: 'processed', modifiers: [], failed: false });
      const mail = await simpleParser(raw);
      expect(mail.subject).to.equal('Compte rendu - CH');
      expect(mail.headers.get('auto-submitted')).to.equal('auto-replied');
      expect(mail.inReplyTo).to.equal(ORIGINAL_ID);
      expect(Array.isArray(mail.from) ? undefined : mail.from?.value[0]?.address).to.equal(DOCTOR);
      expect(mail.attachments.map((a) => a.contentType)).to.deep.equal(['message/disposition-notification', 'message/rfc822']);
      expect(mail.attachments[1]?.content.equals(original)).to.equal(true);
    });

    it('round-trips an error MDN in the French form, with the code in the subject and the text', async () => {
      const raw = await buildMdn({ original: { messageId: ORIGINAL_ID, from: BAL, to: DOCTOR, subject: 'Compte rendu - CH' }, reportingUa: 'DPI de test', disposition: 'error', error: { code: '902', label: 'Identifiant de patient inconnu' }, date: DATE, messageId: '<mdn-2@medecin.mssante.fr>' });
      expect(raw.toString('utf8')).to.match(/^Disposition: automatic-action\/MDN-sent-automatically; processed\/Error: 902\^Identifiant de patient inconnu$/m);
      expect(await mdn(raw)).to.deep.include({ failed: true, errorCode: '902', errorText: 'Identifiant de patient inconnu', disposition: 'processed' });
      const mail = await simpleParser(raw);
      expect(mail.subject).to.equal('[KO Intégration système !][902] Compte rendu - CH');
      expect(mail.text).to.include('902^Identifiant de patient inconnu');
      expect(mail.attachments.map((a) => a.contentType)).to.deep.equal(['message/disposition-notification', 'text/rfc822-headers']);
    });

    it('keeps accents of an error label readable (8bit part)', async () => {
      const raw = await buildMdn({ original: { messageId: ORIGINAL_ID, from: BAL, to: DOCTOR }, reportingUa: 'DPI', disposition: 'error', error: { code: '905', label: 'Document déjà intégré' }, date: DATE, messageId: '<mdn-3@medecin.mssante.fr>' });
      expect((await mdn(raw)).errorText).to.equal('Document déjà intégré');
    });

    it('round-trips a DSN of a failed and a delayed recipient', async () => {
      const raw = await buildDsn({
        reportingMta: 'sandbox.mssante.test', from: 'MAILER-DAEMON@sandbox.mssante.test', to: BAL,
        original: { messageId: ORIGINAL_ID, from: BAL, subject: 'Compte rendu - CH' }, envelopeId: 'sub_01JD0000000000000000000000', arrivalDate: DATE,
        recipients: [
          { finalRecipient: DOCTOR, originalRecipient: DOCTOR, action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 mailbox unknown', remoteMta: 'mx.medecin.mssante.fr', lastAttemptDate: DATE },
          { finalRecipient: 'other@ch-x.mssante.fr', action: 'delayed', status: '4.2.2', willRetryUntil: new Date('2026-11-23T15:00:00Z') },
        ],
        date: DATE, messageId: '<dsn-1@sandbox.mssante.test>',
      });
      const ack = await dsn(raw);
      expect(ack).to.deep.equal({
        kind: 'dsn', originalMessageId: ORIGINAL_ID, envelopeId: 'sub_01JD0000000000000000000000', reportingMta: 'sandbox.mssante.test',
        recipients: [
          { finalRecipient: DOCTOR, originalRecipient: DOCTOR, action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 mailbox unknown', remoteMta: 'mx.medecin.mssante.fr' },
          { finalRecipient: 'other@ch-x.mssante.fr', action: 'delayed', status: '4.2.2', willRetryUntil: 'Mon, 23 Nov 2026 15:00:00 +0000' },
        ],
      });
      expect((await simpleParser(raw)).subject).to.equal('Avis de non-remise');
    });

    it('refuses to build what would not parse: bad ids, an error MDN without its error, a ^ in an error, a status that is not RFC 3463', () => {
      const base = { original: { messageId: ORIGINAL_ID, from: BAL, to: DOCTOR }, reportingUa: 'DPI', date: DATE, messageId: '<m@x.fr>' } as const;
      expect(() => buildMdn({ ...base, disposition: 'error' })).to.throw(/code and label/);
      expect(() => buildMdn({ ...base, disposition: 'error', error: { code: '9^0', label: 'x' } })).to.throw(/without \^/);
      expect(() => buildMdn({ ...base, messageId: 'x', disposition: 'processed' })).to.throw(/Message-ID/);
      expect(() => buildMdn({ ...base, original: { ...base.original, to: `${DOCTOR}\r\nDisposition: x` }, disposition: 'processed' })).to.throw(/one line/);
      expect(() => buildDsn({ reportingMta: 'm', from: 'a@b.fr', to: BAL, original: { messageId: ORIGINAL_ID, from: BAL }, recipients: [{ finalRecipient: DOCTOR, action: 'failed', status: '550' }], date: DATE, messageId: '<d@x.fr>' })).to.throw(/RFC 3463/);
    });
  });
});
