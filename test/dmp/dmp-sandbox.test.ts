/**
 * The gateway's DMP client against the DMP sandbox, over real mutual TLS on loopback: the life of
 * a TLM-CR in the DMP (file, find, retrieve, replace, mask, delete), the XDS error codes and the
 * injected faults with their classification, and the certificates the sandbox refuses.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { expect } from 'chai';
import type { BuildOptions } from '../../src/cda/build-document.js';
import type { ActReport } from '../../src/domain/act-report.js';
import { DEV_PKI_FILES } from '../../src/cli/commands/pki.js';
import { PasserelleError } from '../../src/domain/errors.js';
import type { DmpSandbox } from '../../src/sim/dmp/sandbox-server.js';
import type { DmpClient } from '../../src/transports/dmp/dmp-client.js';
import type { Cx } from '../../src/xds/model.js';
import { ACTION, NS, STATUS, STORED_QUERY, XDS_ERROR } from '../../src/xds/vocabulary.js';
import { DEFAULT_VIHF } from '../../src/config/config.js';
import { signVihf } from '../../src/signing/vihf.js';
import { vihfAttributes } from '../../src/transports/dmp/vihf-context.js';
import { parseSoapEnvelope, soapEnvelope } from '../../src/transports/soap/envelope.js';
import { createMtlsAgent, postSoap } from '../../src/transports/soap/http-client.js';
import { parseSoapMessage } from '../../src/transports/soap/mtom.js';
import { build } from '../support/cda.js';
import { requireShared } from '../support/shared.js';
import { devPkiFolder, startTestSandbox, testClient, type DevPkiFolder } from '../support/dmp.js';
import { fixture } from '../support/fixtures.js';
import { refusal } from '../support/transport.js';

const PATIENT: Cx = { id: '279035121518989', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' };
const PATIENT_CX = '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH';

async function tlmCr(seed: string, replaced?: BuildOptions['replaced']) {
  return build(fixture('teleconsultation') as ActReport, 'tlm-cr', { seed, ...(replaced === undefined ? {} : { replaced }) });
}

describe('the DMP client against the DMP sandbox (mutual TLS on loopback)', function () {
  this.timeout(60_000);
  let pki: DevPkiFolder;
  let sandbox: DmpSandbox;
  let client: DmpClient;

  before(async () => {
    pki = devPkiFolder();
    sandbox = await startTestSandbox(pki);
    client = testClient(pki, sandbox);
  });
  after(async () => {
    await sandbox.close();
    pki.remove();
  });
  afterEach(() => { sandbox.faults.clear(); });

  it('files a TLM-CR, finds it by patient and by uniqueId, retrieves it byte-identical, replaces, masks, archives and deletes it', async () => {
    const first = await tlmCr('life-1');
    const filed = await client.file(first.xml);
    expect(filed.verdict, JSON.stringify(filed.response)).to.deep.equal({ outcome: 'success', duplicate: false });
    const uniqueId = filed.documentEntry.uniqueId;
    expect(uniqueId).to.equal(first.id.root);

    const found = await client.findDocuments(PATIENT);
    expect(found.documentEntries.map((e) => e.uniqueId)).to.include(uniqueId);
    const byId = await client.getDocuments([uniqueId], PATIENT);
    expect(byId.documentEntries).to.have.length(1);
    expect(byId.documentEntries[0]!.entryUUID).to.equal(filed.documentEntry.entryUUID);
    expect(byId.documentEntries[0]!.hash).to.equal(filed.documentEntry.hash);

    const retrieved = await client.retrieve(uniqueId, PATIENT);
    expect(retrieved.verdict.outcome).to.equal('success');
    expect(Buffer.compare(retrieved.document!.content, first.xml)).to.equal(0);
    expect(retrieved.document!.mimeType).to.equal('text/xml');

    // A new version (TD2.1): the CDA names its parent, the submission an RPLC on the entryUUID found by ITI-18.
    const second = await tlmCr('life-2', { id: first.id, setId: first.setId, versionNumber: first.versionNumber });
    const replaced = await client.file(second.xml, { replacesUniqueId: uniqueId });
    expect(replaced.verdict.outcome, JSON.stringify(replaced.response)).to.equal('success');
    expect(replaced.replacedEntryUUID).to.equal(filed.documentEntry.entryUUID);
    const approved = await client.findDocuments(PATIENT);
    expect(approved.documentEntries.map((e) => e.uniqueId)).to.include(second.id.root).and.not.include(uniqueId);
    const deprecated = await client.findDocuments(PATIENT, [STATUS.DEPRECATED]);
    expect(deprecated.documentEntries.map((e) => e.uniqueId)).to.include(uniqueId);

    // Masked to professionals and invisible to the patient (TD3.3a, TD3.3b): a new metadata version.
    const masked = await client.updateMasking(second.id.root, PATIENT, { hiddenFromProfessionals: true, hiddenFromPatient: true });
    expect(masked.verdict.outcome, JSON.stringify(masked.response)).to.equal('success');
    const afterMask = (await client.getDocuments([second.id.root], PATIENT)).documentEntries.find((e) => e.availabilityStatus === STATUS.APPROVED)!;
    expect(afterMask.version).to.equal('2');
    expect(afterMask.confidentialityCodes.map((c) => c.code)).to.deep.equal(['N', 'MASQUE_PS', 'INVISIBLE_PATIENT']);
    const unmasked = await client.updateMasking(second.id.root, PATIENT, {});
    expect(unmasked.verdict.outcome).to.equal('success');
    const afterUnmask = (await client.getDocuments([second.id.root], PATIENT)).documentEntries.find((e) => e.availabilityStatus === STATUS.APPROVED)!;
    expect(afterUnmask.confidentialityCodes.map((c) => c.code)).to.deep.equal(['N']);

    expect((await client.changeStatus(second.id.root, PATIENT, 'archive')).verdict.outcome).to.equal('success');
    expect((await client.findDocuments(PATIENT, [STATUS.ARCHIVED])).documentEntries.map((e) => e.uniqueId)).to.include(second.id.root);
    expect((await client.changeStatus(second.id.root, PATIENT, 'unarchive')).verdict.outcome).to.equal('success');
    expect((await client.changeStatus(second.id.root, PATIENT, 'delete')).verdict.outcome).to.equal('success');
    expect((await client.findDocuments(PATIENT)).documentEntries.map((e) => e.uniqueId)).to.not.include(second.id.root);
    const gone = await client.retrieve(second.id.root, PATIENT);
    expect(gone.document).to.equal(undefined);
    expect(gone.verdict).to.deep.include({ outcome: 'permanent', errorCode: XDS_ERROR.DocumentUniqueIdError });
  });

  it('refuses to file a CDA that cannot be mapped (no INS) before calling the DMP, listing the problem', async () => {
    const report = fixture('teleconsultation');
    delete report.patient.ins;
    const before = sandbox.store.documentCount();
    const cda = (await build(report as ActReport, 'tlm-cr')).xml;
    try {
      await client.file(cda);
      expect.fail('filed');
    } catch (error) {
      expect(error).to.be.instanceOf(PasserelleError);
      expect((error as PasserelleError).code).to.equal('document-invalid');
      expect((error as PasserelleError).violations.map((v) => v.rule).join(' ')).to.match(/INS/);
    }
    expect(sandbox.store.documentCount()).to.equal(before);
  });

  it('feeds the DMP only when the report asks for it, the patient does not object and TD0.2 says the DMP is open', async () => {
    // Any call to the DMP would meet this fault: the first two cases must not call it.
    sandbox.faults.add({ kind: 'drop', count: 1 });
    expect(await client.feed((await tlmCr('feed-1')).xml, { requested: false, patientObjects: false })).to.deep.equal({ fed: false, decision: { feed: false, reason: 'not-requested' } });
    expect(await client.feed((await tlmCr('feed-2')).xml, { requested: true, patientObjects: true })).to.deep.equal({ fed: false, decision: { feed: false, reason: 'patient-objects' } });
    expect(sandbox.faults.state().pending).to.have.length(1);
    sandbox.faults.clear();
    sandbox.setPatient(PATIENT_CX, 'closed');
    try {
      expect(await client.feed((await tlmCr('feed-3')).xml, { requested: true, patientObjects: false })).to.deep.equal({ fed: false, decision: { feed: false, reason: 'dmp-closed' } });
      sandbox.setPatient(PATIENT_CX, 'none');
      expect(await client.feed((await tlmCr('feed-4')).xml, { requested: true, patientObjects: false })).to.deep.equal({ fed: false, decision: { feed: false, reason: 'no-dmp' } });
      // Configured off, the check is the DMP's own: it refuses the filing.
      const trusting = testClient(pki, sandbox, { patientCheck: 'skip' });
      const refused = await trusting.feed((await tlmCr('feed-5')).xml, { requested: true, patientObjects: false });
      expect(refused.fed && refused.filing.verdict).to.deep.include({ outcome: 'permanent', errorCode: XDS_ERROR.UnknownPatientId });
    } finally {
      sandbox.setPatient(PATIENT_CX, 'active');
    }
    const fed = await client.feed((await tlmCr('feed-6')).xml, { requested: true, patientObjects: false, masking: { hiddenFromLegalRepresentatives: true } });
    expect(fed.fed && fed.filing.verdict.outcome).to.equal('success');
    expect(fed.fed && fed.filing.documentEntry.confidentialityCodes.map((c) => c.code)).to.deep.equal(['N', 'INVISIBLE_REPRESENTANTS_LEGAUX']);
  });

  it('answers a second filing of the same uniqueId with XDSDuplicateUniqueIdInRegistry, permanent and flagged as a duplicate', async () => {
    const doc = await tlmCr('duplicate');
    expect((await client.file(doc.xml)).verdict.outcome).to.equal('success');
    const again = await client.file(doc.xml);
    expect(again.response.status).to.equal('Failure');
    expect(again.verdict).to.deep.equal({ outcome: 'permanent', errorCode: XDS_ERROR.DuplicateUniqueIdInRegistry, duplicate: true });
  });

  it('answers XDSUnknownPatientId for a patient without a DMP, and TD0.2 says which patients have an open DMP', async () => {
    expect(await client.patientStatus(PATIENT)).to.equal('active');
    const other: Cx = { id: '180019999999977', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' };
    sandbox.setPatient('180019999999977^^^&1.2.250.1.213.1.4.10&ISO^NH', 'closed');
    expect(await client.patientStatus(other)).to.equal('closed');
    sandbox.setPatient(PATIENT_CX, 'none');
    try {
      expect(await client.patientStatus(PATIENT)).to.equal('none');
      const refused = await client.file((await tlmCr('unknown-patient')).xml);
      expect(refused.verdict).to.deep.include({ outcome: 'permanent', errorCode: XDS_ERROR.UnknownPatientId });
    } finally {
      sandbox.setPatient(PATIENT_CX, 'active');
    }
  });

  const codes: [string, 'retryable' | 'permanent'][] = [
    [XDS_ERROR.RegistryBusy, 'retryable'], [XDS_ERROR.RepositoryBusy, 'retryable'], [XDS_ERROR.RegistryOutOfResources, 'retryable'], [XDS_ERROR.RepositoryError, 'retryable'],
    [XDS_ERROR.RegistryMetadataError, 'permanent'], [XDS_ERROR.RepositoryMetadataError, 'permanent'], [XDS_ERROR.PatientIdDoesNotMatch, 'permanent'],
    [XDS_ERROR.DuplicateUniqueIdInRegistry, 'permanent'], [XDS_ERROR.UnknownPatientId, 'permanent'], ['XDSPolicyViolation', 'permanent'],
  ];
  for (const [code, outcome] of codes) {
    it(`classifies an injected ${code} as ${outcome}, keeping the error as data`, async () => {
      sandbox.faults.add({ kind: 'registry-error', errorCode: code, count: 1 });
      const result = await client.file((await tlmCr(`code-${code}`)).xml);
      expect(result.response.errors.map((e) => e.errorCode)).to.deep.equal([code]);
      expect(result.verdict.outcome).to.equal(outcome);
      expect(result.verdict.errorCode).to.equal(code);
    });
  }

  const faults: [string, Parameters<DmpSandbox['faults']['add']>[0], string][] = [
    ['an HTTP 500 with a SOAP Receiver fault', { kind: 'http-500', count: 1 }, 'soap-fault'],
    ['an HTTP 503', { kind: 'http-503', count: 1 }, 'http-status'],
    ['a dropped connection', { kind: 'drop', count: 1 }, 'reset'],
    ['a refused TLS handshake', { kind: 'tls-refuse', count: 1 }, 'tls-handshake'],
  ];
  for (const [what, fault, kind] of faults) {
    it(`classifies ${what} as retryable, and the next call succeeds`, async () => {
      sandbox.faults.add(fault);
      // The sandbox closes kept-alive connections when a TLS refusal is armed; let the client see it.
      if (fault.kind === 'tls-refuse') await new Promise((resolve) => setTimeout(resolve, 100));
      const error = await refusal(client.findDocuments(PATIENT));
      expect(error.retryable, error.message).to.equal(true);
      expect(error.kind).to.equal(kind);
      expect(error.code).to.equal('partner-unavailable');
      expect((await client.findDocuments(PATIENT)).verdict.outcome).to.equal('success');
    });
  }

  it('gives up on a slow answer after the response time-out, as retryable', async () => {
    const impatient = testClient(pki, sandbox, { timeouts: { connectMs: 2000, tlsMs: 2000, responseMs: 300 } });
    sandbox.faults.latencyMs = 1500;
    const error = await refusal(impatient.findDocuments(PATIENT));
    expect(error).to.deep.include({ kind: 'response-timeout', retryable: true });
  });

  it('refuses a VIHF signed by a certificate of another CA with a SOAP Sender fault, permanent', async () => {
    const other = devPkiFolder();
    try {
      const forger = testClient(pki, sandbox, { signer: other.identity(DEV_PKI_FILES.orgSign) });
      const error = await refusal(forger.findDocuments(PATIENT));
      expect(error).to.deep.include({ kind: 'soap-fault', retryable: false, code: 'partner-rejected' });
      expect(error.message).to.match(/VIHF/);
    } finally {
      other.remove();
    }
  });

  /**
   * A Node TLS server checks a client certificate after the handshake and closes the connection
   * without a TLS alert, so the client sees the handshake interrupted; a server that answers with
   * an alert (unknown_ca, certificate_expired) is classified permanent (test/transports/mtls.test.ts).
   * Either way, no request reaches the sandbox.
   */
  async function refused(call: Promise<unknown>): Promise<void> {
    const before = sandbox.store.documentCount();
    const error = await refusal(call);
    expect(['tls-handshake', 'tls-certificate'], `${error.kind}: ${error.message}`).to.include(error.kind);
    expect(sandbox.store.documentCount()).to.equal(before);
  }

  it('takes faults and patients over its /_sandbox controls, behind the same mutual TLS', async () => {
    const agent = createMtlsAgent(pki.tls(DEV_PKI_FILES.orgAuth));
    const control = (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => new Promise((resolve, reject) => {
      const req = httpsRequest(`${sandbox.url}/_sandbox${path}`, { method, agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { const text = Buffer.concat(chunks).toString('utf8'); resolve({ status: res.statusCode ?? 0, json: text === '' ? undefined : JSON.parse(text) as unknown }); });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
    const armed = await control('POST', '/faults', { faults: [{ kind: 'registry-error', errorCode: XDS_ERROR.RegistryBusy, count: 1 }] });
    expect(armed).to.deep.equal({ status: 200, json: { latencyMs: 0, pending: [{ kind: 'registry-error', count: 1, errorCode: XDS_ERROR.RegistryBusy }] } });
    expect((await client.findDocuments(PATIENT)).verdict).to.deep.include({ outcome: 'retryable', errorCode: XDS_ERROR.RegistryBusy });
    expect((await control('POST', '/faults', { faults: [{ kind: 'nonsense', count: 1 }] })).status).to.equal(400);
    expect((await control('PUT', `/patients/${encodeURIComponent(PATIENT_CX)}`, { dmp: 'closed' })).status).to.equal(204);
    expect(await client.patientStatus(PATIENT)).to.equal('closed');
    expect((await control('PUT', `/patients/${encodeURIComponent(PATIENT_CX)}`, { dmp: 'active' })).status).to.equal(204);
    agent.destroy();
  });

  it('checks each request against the IHE schemas and answers a SOAP Sender fault for one that breaks them', async function () {
    requireShared(this, 'ihe/schema/query.xsd');
    const vihf = signVihf(vihfAttributes(DEFAULT_VIHF, '1750803447'), pki.identity(DEV_PKI_FILES.orgSign), { now: new Date(), validitySeconds: 300 }).toString('utf8').replace(/^<\?xml[^>]*\?>\s*/, '');
    // An AdhocQueryRequest without its ResponseOption (required by query.xsd).
    const body = `<query:AdhocQueryRequest xmlns:query="${NS.QUERY}" xmlns:rim="${NS.RIM}"><rim:AdhocQuery id="${STORED_QUERY.GetDocuments}"/></query:AdhocQueryRequest>`;
    const envelope = soapEnvelope({ action: ACTION.ITI_18, to: `${sandbox.url}/registry`, messageId: 'urn:uuid:0f8e0d1c-2b3a-4c5d-8e9f-001122334455', security: vihf, bodyXml: body });
    const reply = await postSoap({ url: `${sandbox.url}/registry`, agent: createMtlsAgent(pki.tls(DEV_PKI_FILES.orgAuth)), contentType: 'application/soap+xml; charset=UTF-8', action: ACTION.ITI_18, body: Buffer.from(envelope), timeouts: { connectMs: 2000, tlsMs: 2000, responseMs: 5000 }, maxResponseBytes: 1 << 20 });
    const fault = parseSoapEnvelope(parseSoapMessage(reply.contentType, reply.body).rootXml).fault;
    expect(reply.status).to.equal(400);
    expect(fault?.code).to.equal('Sender');
    expect(fault?.reason).to.match(/does not validate against query\.xsd.*ResponseOption/s);
  });

  describe('client certificates', () => {
    it('refuses a client without a certificate', async () => {
      const anonymous = testClient(pki, sandbox, { agent: new Agent({ ca: pki.trustPem, keepAlive: true }) });
      const error = await refusal(anonymous.file((await tlmCr('anonymous')).xml));
      // Without a certificate OpenSSL itself ends the handshake with an alert: permanent.
      expect(error, error.message).to.deep.include({ kind: 'tls-handshake', retryable: false });
    });

    it('refuses a client certificate from another CA', async () => {
      const other = devPkiFolder();
      try {
        const stranger = testClient(pki, sandbox, { tls: { ...other.tls(DEV_PKI_FILES.orgAuth), ca: pki.trustPem } });
        await refused(stranger.file((await tlmCr('stranger')).xml));
      } finally {
        other.remove();
      }
    });

    it('refuses an expired client certificate', async () => {
      // A PKI made two years ago for thirty days, whose root the sandbox trusts for client certificates.
      const old = devPkiFolder(new Date(Date.now() - 2 * 365 * 86_400_000), 30);
      try {
        const sandboxOfOld = await startTestSandboxTrusting(old, pki);
        try {
          const expired = testClient(pki, sandboxOfOld, { tls: { ...old.tls(DEV_PKI_FILES.orgAuth), ca: pki.trustPem } });
          await refused(expired.findDocuments(PATIENT));
        } finally {
          await sandboxOfOld.close();
        }
      } finally {
        old.remove();
      }
    });
  });
});

/** A sandbox serving `server`'s certificate but accepting client certificates of `clients`' CA. */
async function startTestSandboxTrusting(clients: DevPkiFolder, server: DevPkiFolder): Promise<DmpSandbox> {
  const { startDmpSandbox } = await import('../../src/sim/dmp/sandbox-server.js');
  const { TrustStore } = await import('../../src/signing/trust-store.js');
  return startDmpSandbox({
    port: 0,
    serverIdentity: server.identity(DEV_PKI_FILES.server),
    clientCaPem: clients.trustPem,
    trust: TrustStore.fromPem(server.trustPem),
    databasePath: ':memory:',
    repositoryUniqueId: '2.999.1.1',
  });
}
