/**
 * A TLM-CR sent by MSSanté through the sandbox over real TLS, and its acknowledgements read back
 * over IMAP from a real Dovecot: the message as a standard MIME parser reads it, its XDM archive
 * and metadata, each recipient's status in the store, and the faults with their classification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { simpleParser } from 'mailparser';
import { DEV_PKI_FILES } from '../../src/cli/commands/pki.js';
import { startConfiguredMssSandbox, type ConfiguredMssSandbox } from '../../src/cli/commands/sim.js';
import { loadConfig } from '../../src/config/config.js';
import type { ActReport } from '../../src/domain/act-report.js';
import type { PasserelleError } from '../../src/domain/errors.js';
import { recordMssAcknowledgements } from '../../src/pipeline/acknowledgements.js';
import { DEBIAN_DOVECOT_BINARY } from '../../src/sim/mss/dovecot.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { newId } from '../../src/support/new-id.js';
import { configuredMssClient } from '../../src/transports/mss/configured-mss-client.js';
import { MssClient, type MssSendOutcome, type RecipientAcknowledgement } from '../../src/transports/mss/mss-client.js';
import { TransportError } from '../../src/transports/soap/transport-error.js';
import { readXdmZip } from '../../src/xdm/read-xdm.js';
import { submitObjectsRequestXml } from '../../src/xds/ebrim.js';
import { build } from '../support/cda.js';
import { devPkiFolder, type DevPkiFolder } from '../support/dmp.js';
import { fixture } from '../support/fixtures.js';
import { expectSchemaValid } from '../support/xds.js';
import { requireDovecot } from '../support/tools.js';

const MAILBOX = 'passerelle@sandbox.mssante.fr';
const PHYSICIAN = 'bernard.vacquier@medecin.mssante.fr';
const COLLEAGUE = 'claire.legrand@chu-demo.mssante.fr';

/** The télé-expertise fixture, to its médecin traitant (also the requérant) and one more recipient. */
function report(): ActReport {
  const r = fixture('teleexpertise');
  r.recipients = [{ mssanteAddress: COLLEAGUE }];
  return r as ActReport;
}

describe('sending a report by MSSanté through the sandbox (TLS, real SMTP and IMAP on loopback)', function () {
  this.timeout(60_000);
  let pki: DevPkiFolder;
  let dir: string;
  let sandbox: ConfiguredMssSandbox;
  let store: Store;
  let client: MssClient;
  let lastUid = 0;

  before(async function () {
    requireDovecot(this, DEBIAN_DOVECOT_BINARY);
    pki = devPkiFolder();
    dir = mkdtempSync(join(tmpdir(), 'passerelle-mss-'));
    sandbox = await startConfiguredMssSandbox({ pkiDir: pki.dir, port: 0, tls: 'implicit', mailbox: MAILBOX });
    store = openStore(`sqlite:${join(dir, 'store.db')}`);
    await store.migrate();
    client = mssClient(pki.tls(DEV_PKI_FILES.orgAuth));
  });
  after(async () => {
    await store?.close();
    await sandbox?.close();
    pki?.remove();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => { sandbox.smtp.faults.clear(); sandbox.smtp.mdn = 'processed'; });

  function mssClient(tls: ReturnType<DevPkiFolder['tls']>, smtpPort = sandbox.smtp.port): MssClient {
    return new MssClient({
      smtp: { host: '127.0.0.1', port: smtpPort, secure: true, tls, timeouts: { connectMs: 3000, greetingMs: 3000, socketMs: 5000 } },
      ...(sandbox.imap === undefined ? {} : { imap: { host: '127.0.0.1', port: sandbox.imap.port, secure: true as const, tls, user: MAILBOX, timeouts: { connectMs: 3000, socketMs: 5000 } } }),
      from: MAILBOX,
      requestAcknowledgement: true,
      attachPdf: true,
      headers: { 'X-MSS-INS': 'O' },
      sourceId: '2.999.1.2',
      contentTypeCode: { code: '07', codingScheme: '1.2.250.1.213.2.2', displayName: 'Consultation Soins Externes' },
    });
  }

  async function submission(): Promise<string> {
    const id = newId('sub');
    const at = new Date();
    await store.createSubmission({ id, tenantId: 'sandbox', idempotencyKey: null, requestHash: 'a'.repeat(64), requestId: 'req', actType: 'teleexpertise', input: {}, createdAt: at, events: [{ type: 'received', at, actor: 'test', data: {} }] });
    return id;
  }

  /** Reads the mailbox until `count` acknowledgements of `messageId` are there. */
  /** What the pipeline's MSSanté step records of a message SMTP took: each recipient sent, under the Message-ID. */
  async function recordSent(id: string, outcome: MssSendOutcome): Promise<void> {
    const at = new Date();
    await store.applyChange({
      submissionId: id,
      at,
      deliveries: outcome.recipients.map((r) => ({ submissionId: id, destination: r.destination, status: r.status, reference: outcome.messageId, detail: { role: r.role }, updatedAt: at })),
      events: outcome.recipients.map((r) => ({ type: 'sent', at, actor: 'test', data: { destination: r.destination, reference: outcome.messageId } })),
    });
  }

  async function acknowledgementsOf(messageId: string, count: number): Promise<RecipientAcknowledgement[]> {
    const found: RecipientAcknowledgement[] = [];
    for (let attempt = 0; attempt < 50 && found.length < count; attempt++) {
      const read = await client.acknowledgements(lastUid);
      lastUid = read.lastUid;
      found.push(...read.acknowledgements.filter((a) => a.originalMessageId === messageId));
      if (found.length < count) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return found;
  }

  it('sends a TLM-CR to two recipients, and their MDNs mark both delivered', async function () {
    const built = await build(report(), 'tlm-cr');
    const id = await submission();
    const outcome = await client.send({ submissionId: id, report: report(), cda: built.xml, ...(built.pdf === undefined ? {} : { pdf: Buffer.from(built.pdf) }) });
    expect(outcome.recipients.map((r) => [r.address, r.status])).to.deep.equal([[PHYSICIAN, 'sent'], [COLLEAGUE, 'sent']]);
    await recordSent(id, outcome);

    // What the recipients' servers received, read by a standard MIME parser.
    const mail = sandbox.smtp.received().find((m) => m.messageId === outcome.messageId);
    expect(mail?.to).to.deep.equal([PHYSICIAN, COLLEAGUE]);
    expect(mail?.clientCertificate).to.match(/AUTH_CLI/);
    const parsed = await simpleParser(mail?.raw ?? Buffer.alloc(0));
    expect(parsed.headers.get('x-mss-codecda')).to.equal('85208-7');
    expect(parsed.headers.get('x-mss-ins')).to.equal('O');
    expect(parsed.subject).to.not.match(/DOMINIQUE|PAT-TROIS|279035121518989|1979/);
    const xdm = parsed.attachments.find((a) => a.filename === 'IHE_XDM.ZIP');
    expect(parsed.attachments.map((a) => a.contentType)).to.include.members(['application/zip', 'application/pdf']);

    // Its XDM archive opens, its metadata validate against the IHE schema and name the CDA, whose hash and size match.
    const archive = readXdmZip(xdm?.content ?? Buffer.alloc(0));
    const [subset] = archive.subsets;
    expect(subset?.submission).to.not.equal(undefined);
    expectSchemaValid(submitObjectsRequestXml(subset!.submission!), 'lcm');
    expectSchemaValid(archive.files.get(subset!.metadataFile)!.toString('utf8'), 'lcm', 'METADATA.XML as written');
    const cdaCheck = subset!.checks.find((c) => c.mimeType === 'text/xml');
    expect(cdaCheck).to.deep.include({ hashMatches: true, sizeMatches: true, problems: [] });
    expect(Buffer.compare(subset!.documents.get(cdaCheck!.entryUUID)!, built.xml)).to.equal(0);

    // The MDNs come back to the application mailbox and mark both recipients delivered.
    const acks = await acknowledgementsOf(outcome.messageId, 2);
    expect(acks.map((a) => [a.recipient, a.outcome, a.acknowledgement]).sort()).to.deep.equal([[PHYSICIAN, 'delivered', 'mdn-processed'], [COLLEAGUE, 'delivered', 'mdn-processed']]);
    expect(await recordMssAcknowledgements(store, acks, new Date())).to.deep.equal({ recorded: 2, unmatched: 0 });
    const deliveries = await store.listDeliveries('sandbox', id);
    expect(deliveries?.map((d) => [d.destination, d.status, (d.detail as { acknowledgement?: string }).acknowledgement])).to.deep.equal([[`mss:${PHYSICIAN}`, 'delivered', 'mdn-processed'], [`mss:${COLLEAGUE}`, 'delivered', 'mdn-processed']]);
    expect((await store.listEvents('sandbox', id))?.map((e) => e.type)).to.deep.equal(['received', 'sent', 'sent', 'acknowledged', 'acknowledged']);
  });

  it('records a 4xx refusal as retrying and a 5xx one as failed, per recipient, with the reply code', async () => {
    sandbox.smtp.faults.recipient(PHYSICIAN, { code: 452, enhancedCode: '4.2.2', count: 1 });
    sandbox.smtp.faults.recipient(COLLEAGUE, { code: 550, enhancedCode: '5.1.1', count: 1 });
    const outcome = await client.send({ submissionId: await submission(), report: report(), cda: (await build(report(), 'tlm-cr')).xml });
    expect(outcome.recipients.map((r) => [r.address, r.status, r.code, r.retryable])).to.deep.equal([[PHYSICIAN, 'retrying', '452 4.2.2', true], [COLLEAGUE, 'failed', '550 5.1.1', false]]);
  });

  it('records an MDN with an error as a failed delivery with its code', async () => {
    sandbox.smtp.mdn = 'error';
    const id = await submission();
    const outcome = await client.send({ submissionId: id, report: report(), cda: (await build(report(), 'tlm-cr')).xml });
    await recordSent(id, outcome);
    const acks = await acknowledgementsOf(outcome.messageId, 2);
    expect(acks.every((a) => a.outcome === 'failed' && a.code === 'ERR_INTEGRATION')).to.equal(true);
    await recordMssAcknowledgements(store, acks, new Date());
    expect((await store.listDeliveries('sandbox', id))?.map((d) => [d.status, (d.detail as { code?: string }).code])).to.deep.equal([['failed', 'ERR_INTEGRATION'], ['failed', 'ERR_INTEGRATION']]);
  });

  it('fails a recipient without an MSSanté address on its own, and sends to the others', async () => {
    const r = fixture('teleexpertise');
    r.recipients = [{ mssanteAddress: COLLEAGUE }];
    delete r.professionals.primaryCarePhysician.professional.mssanteAddress;
    delete r.professionals.requester.mssanteAddress;
    const outcome = await client.send({ submissionId: await submission(), report: r as ActReport, cda: (await build(report(), 'tlm-cr')).xml });
    expect(outcome.recipients.map((x) => [x.destination, x.status, x.code])).to.deep.equal([
      [`mss:${COLLEAGUE}`, 'sent', undefined],
      ['mss:primary-care-physician', 'failed', 'NO_MSSANTE_ADDRESS'],
      ['mss:requester', 'failed', 'NO_MSSANTE_ADDRESS'],
    ]);
  });

  const transactionFaults: [string, (s: ConfiguredMssSandbox) => void, string][] = [
    ['a connection dropped during the transaction', (s) => { s.smtp.faults.dropConnections(1); }, 'reset'],
    ['a session refused as its TLS handshake ends', (s) => { s.smtp.faults.refuseTls(1); }, 'reset'],
  ];
  for (const [what, arm, kind] of transactionFaults) {
    it(`throws ${what} as a retryable TransportError, and the next send goes through`, async () => {
      arm(sandbox);
      const cda = (await build(report(), 'tlm-cr')).xml;
      try {
        await client.send({ submissionId: await submission(), report: report(), cda });
        expect.fail('sent');
      } catch (error) {
        expect(error).to.be.instanceOf(TransportError);
        expect(error, (error as Error).message).to.deep.include({ retryable: true, code: 'partner-unavailable', kind });
      }
      expect((await client.send({ submissionId: await submission(), report: report(), cda })).recipients.every((r) => r.status === 'sent')).to.equal(true);
    });
  }

  it('sends with the client the configuration describes', async () => {
    const configured = configuredMssClient(loadConfig({
      PASSERELLE_MSS_SMTP_HOST: '127.0.0.1',
      PASSERELLE_MSS_SMTP_PORT: String(sandbox.smtp.port),
      PASSERELLE_MSS_FROM: MAILBOX,
      PASSERELLE_MSS_PKCS12_FILE: join(pki.dir, DEV_PKI_FILES.orgAuth),
      PASSERELLE_MSS_PASSPHRASE_FILE: join(pki.dir, DEV_PKI_FILES.passphrase),
      PASSERELLE_MSS_TRUST_FILE: join(pki.dir, DEV_PKI_FILES.trust),
      PASSERELLE_MSS_ATTACH_PDF: 'false',
    }));
    const outcome = await configured.send({ submissionId: await submission(), report: report(), cda: (await build(report(), 'tlm-cr')).xml });
    expect(outcome.recipients.map((r) => r.status)).to.deep.equal(['sent', 'sent']);
    const parsed = await simpleParser(sandbox.smtp.received().at(-1)?.raw ?? Buffer.alloc(0));
    expect(parsed.attachments.map((a) => a.filename)).to.deep.equal(['IHE_XDM.ZIP']);
  });

  it('lists every problem of an MSSanté configuration at once', () => {
    try {
      loadConfig({ PASSERELLE_MSS_SMTP_HOST: 'smtp.example', PASSERELLE_MSS_FROM: 'not an address', PASSERELLE_MSS_SMTP_TLS: 'none', PASSERELLE_MSS_ATTACH_PDF: 'yes' });
      expect.fail('accepted');
    } catch (error) {
      expect((error as PasserelleError).violations.map((v) => v.pointer)).to.include.members(['/mss/from', '/mss', '/mss/smtp/tls', '/mss/attachPdf']);
    }
  });

  it('is refused by the sandbox with a client certificate of another CA', async () => {
    const other = devPkiFolder();
    try {
      const stranger = mssClient({ ...other.tls(DEV_PKI_FILES.orgAuth), ca: pki.trustPem });
      const before = sandbox.smtp.received().length;
      try {
        await stranger.send({ submissionId: await submission(), report: report(), cda: (await build(report(), 'tlm-cr')).xml });
        expect.fail('sent');
      } catch (error) {
        expect(error).to.be.instanceOf(TransportError);
      }
      expect(sandbox.smtp.received()).to.have.length(before);
    } finally {
      other.remove();
    }
  });
});
