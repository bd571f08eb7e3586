/**
 * The DMP sandbox: an XDS.b registry and repository over HTTPS that, like the DMP, requires a
 * client certificate issued by the configured CA, and speaks the same SOAP 1.2 / MTOM as the
 * client (french-specs §3.4, §3.6). It checks what it receives — XSD (with the IHE schemas when
 * given), the VIHF's signature and attributes, the XAdES Manifest digests, the metadata rules —
 * and answers with the standard XDS error codes. Faults can be injected (faults.ts), in process
 * or over its `/_sandbox` endpoints.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import express, { type Request, type Response } from 'express';
import type { SigningIdentity } from '../../signing/identity.js';
import { mutualTlsServerOptions } from '../mutual-tls.js';
import { SignatureError } from '../../signing/signature-xml.js';
import type { TrustStore } from '../../signing/trust-store.js';
import { verifyVihf } from '../../signing/vihf.js';
import type { Logger } from '../../support/logger.js';
import { TD02_ACTION } from '../../transports/dmp/patient-status.js';
import { parseSoapEnvelope, soapEnvelope, soapFaultXml, type SoapFault, type SoapFaultCode } from '../../transports/soap/envelope.js';
import { buildMtom, parseSoapMessage, type ParsedMessage } from '../../transports/soap/mtom.js';
import { XsdSchema } from '../../validation/xsd.js';
import { parseCx } from '../../xds/hl7v2.js';
import { XdsFormatError } from '../../xds/xml-read.js';
import { ACTION, NS, XDS_ERROR } from '../../xds/vocabulary.js';
import { FAULT_KINDS, Faults, type Fault } from './faults.js';
import { patientStatus, provideAndRegister, registryErrorAnswer, retrieve, storedQuery, updateDocumentSet, type Answer, type HandlerContext } from './sandbox-handlers.js';
import type { DmpState } from '../../transports/dmp/patient-status.js';
import { SandboxStore, patientKey } from './sandbox-store.js';

export interface DmpSandboxOptions {
  readonly host?: string;
  /** 0: any free port. */
  readonly port: number;
  /** The sandbox's server certificate and key. */
  readonly serverIdentity: SigningIdentity;
  /** PEM of the CAs whose client certificates are accepted (the gateway's ORG AUTH_CLI issuer). */
  readonly clientCaPem: string;
  /** CAs the VIHF and XAdES signatures must chain to. */
  readonly trust: TrustStore;
  /** SQLite file, or ':memory:'. */
  readonly databasePath: string;
  readonly repositoryUniqueId: string;
  /** Folder of the IHE XDS.b schemas (rim.xsd, lcm.xsd, query.xsd, XDS.b_DocumentRepository.xsd): requests are then XSD-checked. */
  readonly xdsSchemaDir?: string;
  readonly maxRequestBytes?: number;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export interface DmpSandbox {
  /** Base URL: the services are `${url}/registry`, `${url}/repository`, `${url}/patients`. */
  readonly url: string;
  readonly faults: Faults;
  readonly store: SandboxStore;
  setPatient(patientId: string, dmp: DmpState): void;
  close(): Promise<void>;
}

/** The VIHF attributes the DMP requires (french-specs §3.5 addendum, DRIMbox's required fields). */
const REQUIRED_VIHF_ATTRIBUTES = [
  'VIHF_Version', 'urn:oasis:names:tc:xacml:2.0:subject:role', 'Secteur_Activite', 'Ressource_URN', 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse',
  'urn:oasis:names:tc:xspa:1.0:subject:subject-id', 'Authentification_Mode', 'Identifiant_Structure', 'LPS_ID_HOMOLOGATION_DMP', 'LPS_Nom',
] as const;
const RESOURCE_ID = 'urn:oasis:names:tc:xacml:2.0:resource:resource-id';
/** WS-Security 1.0 §12 fault subcode of a security token that does not authenticate. */
const WSSE_FAILED_AUTHENTICATION = 'FailedAuthentication';

type Service = 'registry' | 'repository' | 'patients';
const ROUTES: Readonly<Record<string, Service>> = { [ACTION.ITI_41]: 'repository', [ACTION.ITI_43]: 'repository', [ACTION.ITI_18]: 'registry', [ACTION.ITI_57]: 'registry', [TD02_ACTION]: 'patients' };

/** The request element each transaction's body holds, and the schema that defines it. */
const BODY_SCHEMAS: Readonly<Record<string, { file: string; namespace: string; localName: string }>> = {
  [ACTION.ITI_41]: { file: 'XDS.b_DocumentRepository.xsd', namespace: NS.XDS_B, localName: 'ProvideAndRegisterDocumentSetRequest' },
  [ACTION.ITI_43]: { file: 'XDS.b_DocumentRepository.xsd', namespace: NS.XDS_B, localName: 'RetrieveDocumentSetRequest' },
  [ACTION.ITI_18]: { file: 'query.xsd', namespace: NS.QUERY, localName: 'AdhocQueryRequest' },
  [ACTION.ITI_57]: { file: 'lcm.xsd', namespace: NS.LCM, localName: 'SubmitObjectsRequest' },
};

type SandboxFault = SoapFault & { readonly code: SoapFaultCode };

class SoapFaultAnswer extends Error {
  constructor(readonly fault: SandboxFault, readonly httpStatus = 500) {
    super(fault.reason);
  }
}

export async function startDmpSandbox(options: DmpSandboxOptions): Promise<DmpSandbox> {
  const store = new SandboxStore(options.databasePath);
  const faults = new Faults();
  const now = options.now ?? (() => new Date());
  const schemas = new Map<string, XsdSchema>();
  if (options.xdsSchemaDir !== undefined) {
    for (const { file } of Object.values(BODY_SCHEMAS)) if (!schemas.has(file)) schemas.set(file, XsdSchema.load(join(options.xdsSchemaDir, file)));
  }

  const app = express();
  app.disable('x-powered-by');
  // The controls first: their JSON bodies must not reach the raw parser of the SOAP services.
  app.use('/_sandbox', express.json({ limit: '64kb' }), controlRoutes(faults, store));
  app.use(express.raw({ type: () => true, limit: options.maxRequestBytes ?? 80 * 1024 * 1024 }));
  app.post('/:service', (req: Request, res: Response) => {
    void (async () => {
      const fault = faults.takeCallFault();
      if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
      if (fault?.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'http-503') {
        res.status(503).type('text/plain').send('the sandbox is unavailable (fault injection)');
        return;
      }
      if (fault?.kind === 'http-500') {
        sendFault(res, { code: 'Receiver', subcodes: [], reason: 'internal error (fault injection)' });
        return;
      }
      answer(req, res, fault);
    })();
  });

  const answer = (req: Request, res: Response, fault: Fault | undefined): void => {
    let relatesTo: string | undefined;
    try {
      const message = parseSoapMessage(req.headers['content-type'], req.body as Buffer);
      const envelope = parseSoapEnvelope(message.rootXml);
      relatesTo = envelope.messageId;
      const action = envelope.action ?? '';
      if (ROUTES[action] !== req.params.service) throw new SoapFaultAnswer({ code: 'Sender', subcodes: ['ActionNotSupported'], reason: `the ${String(req.params.service)} service does not do ${action}` });
      const vihfPatient = checkVihf(envelope.securityXml, options.trust, now());
      checkSchema(schemas, action, message.rootXml);
      const context: HandlerContext = { store, trust: options.trust, repositoryUniqueId: options.repositoryUniqueId, now, ...(vihfPatient === undefined ? {} : { vihfPatient }) };
      const result = fault?.kind === 'registry-error'
        ? registryErrorAnswer(action, [{ errorCode: fault.errorCode ?? XDS_ERROR.RegistryError, codeContext: 'error injected by the sandbox', severity: 'Error' }])
        : dispatch(action, message, context);
      send(res, result, relatesTo);
    } catch (error) {
      if (error instanceof SoapFaultAnswer) { sendFault(res, error.fault, error.httpStatus, relatesTo); return; }
      if (error instanceof XdsFormatError || (error as { kind?: string }).kind === 'malformed-response') {
        sendFault(res, { code: 'Sender', subcodes: [], reason: (error as Error).message }, 400, relatesTo);
        return;
      }
      options.logger?.error({ err: error }, 'DMP sandbox: unexpected error');
      sendFault(res, { code: 'Receiver', subcodes: [], reason: 'internal error of the sandbox' }, 500, relatesTo);
    }
  };

  const server: Server = createServer({
    // Like the DMP: no handshake without a valid client certificate from the configured CA.
    ...mutualTlsServerOptions(options.serverIdentity, options.clientCaPem),
    // TLS 1.2 only, as the DMP's mutual TLS is (french-specs §3.6, DRIMbox). There the client
    // certificate is checked inside the handshake, so a refusal reaches the client as a TLS alert;
    // in TLS 1.3 the client may send its request before the alert and see a reset instead.
    maxVersion: 'TLSv1.2',
  }, app);
  server.keepAliveTimeout = 30_000;
  // "TLS refusal": the connection is closed before the handshake, as a server refusing TLS does.
  server.prependListener('connection', (socket: Socket) => {
    if (faults.takeTlsRefusal()) socket.destroy();
  });
  faults.onTlsRefusalArmed = () => { server.closeIdleConnections(); };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `https://${host}:${String(address.port)}`,
    faults,
    store,
    setPatient: (patientId, dmp) => { store.setPatient({ patientId: normalizePatient(patientId), dmp }); },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
      for (const schema of schemas.values()) schema.dispose();
      store.close();
    },
  };
}

/** A patient given as `NIR^^^&OID&ISO^NH` (or without the type), as the store keys it. */
function normalizePatient(cx: string): string {
  const patient = parseCx(cx);
  return patientKey(patient.id, patient.assigningAuthority);
}

function dispatch(action: string, message: ParsedMessage, context: HandlerContext): Answer {
  switch (action) {
    case ACTION.ITI_41: return provideAndRegister(message.rootXml, message, context);
    case ACTION.ITI_43: return retrieve(message.rootXml, context);
    case ACTION.ITI_18: return storedQuery(message.rootXml, context);
    case ACTION.ITI_57: return updateDocumentSet(message.rootXml, context);
    default: return patientStatus(message.rootXml, context);
  }
}

/** The VIHF must be there, signed by a certificate of the trust store, valid now, with the required attributes. */
function checkVihf(securityXml: string | undefined, trust: TrustStore, at: Date): string | undefined {
  const refuse = (reason: string): never => { throw new SoapFaultAnswer({ code: 'Sender', subcodes: [WSSE_FAILED_AUTHENTICATION], reason }); };
  if (securityXml === undefined) return refuse('the request has no VIHF in its WS-Security header');
  let vihf;
  try {
    vihf = verifyVihf(Buffer.from(securityXml, 'utf8'), trust, at);
  } catch (error) {
    if (error instanceof SignatureError) return refuse(`the VIHF does not verify: ${error.message}`);
    throw error;
  }
  const missing = REQUIRED_VIHF_ATTRIBUTES.filter((name) => (vihf.attributes.get(name) ?? []).every((v) => v === ''));
  if (missing.length > 0) refuse(`the VIHF lacks ${missing.join(', ')}`);
  return vihf.attributes.get(RESOURCE_ID)?.[0];
}

function checkSchema(schemas: ReadonlyMap<string, XsdSchema>, action: string, rootXml: string): void {
  const body = BODY_SCHEMAS[action];
  const schema = body === undefined ? undefined : schemas.get(body.file);
  if (body === undefined || schema === undefined) return;
  // The schema types Document as base64Binary: the XOP infoset has the octets there, the MTOM
  // message an xop:Include, which stands for them. An empty value validates the same structure.
  const infoset = rootXml.replace(/<(?:[\w-]+:)?Include\b[^>]*?(?:\/>|>\s*<\/(?:[\w-]+:)?Include>)/g, '');
  const issues = schema.validate(Buffer.from(infoset, 'utf8'), 'request', { namespace: body.namespace, localName: body.localName }).filter((i) => i.severity === 'error');
  if (issues.length > 0) {
    throw new SoapFaultAnswer({ code: 'Sender', subcodes: [], reason: `the request does not validate against ${body.file}: ${issues.slice(0, 5).map((i) => `line ${String(i.line ?? '?')}: ${i.message}`).join('; ')}` }, 400);
  }
}

function send(res: Response, answer: Answer, relatesTo: string | undefined): void {
  const envelope = soapEnvelope({ action: answer.action, to: 'http://www.w3.org/2005/08/addressing/anonymous', messageId: `urn:uuid:${randomUUID()}`, ...(relatesTo === undefined ? {} : { relatesTo }), bodyXml: answer.bodyXml });
  if (answer.parts === undefined) {
    res.status(200).type(`application/soap+xml; charset=UTF-8; action="${answer.action}"`).send(Buffer.from(envelope, 'utf8'));
    return;
  }
  const message = buildMtom({ rootXml: envelope, action: answer.action, parts: answer.parts });
  res.status(200).set('content-type', message.contentType).send(message.body);
}

/** SOAP faults with HTTP 500, as the DMP answers them (french-specs §3.6, DRIMbox). */
function sendFault(res: Response, fault: SandboxFault, status = 500, relatesTo?: string): void {
  res.status(status).type('application/soap+xml; charset=UTF-8').send(Buffer.from(soapFaultXml(fault, relatesTo), 'utf8'));
}

/** `/_sandbox`: faults and patients, for tests and demonstrations (same mutual TLS as the services). */
function controlRoutes(faults: Faults, store: SandboxStore): express.Router {
  const router = express.Router();
  router.get('/faults', (_req, res) => { res.json(faults.state()); });
  router.post('/faults', (req, res) => {
    const body = (req.body ?? {}) as { latencyMs?: unknown; faults?: unknown };
    try {
      if (body.latencyMs !== undefined) faults.latencyMs = Number(body.latencyMs);
      for (const f of Array.isArray(body.faults) ? body.faults as Fault[] : []) faults.add(f);
      res.json(faults.state());
    } catch (error) {
      res.status(400).json({ error: (error as Error).message, kinds: FAULT_KINDS });
    }
  });
  router.delete('/faults', (_req, res) => { faults.clear(); res.json(faults.state()); });
  router.put('/patients/:patientId', (req, res) => {
    const dmp = (req.body as { dmp?: unknown } | undefined)?.dmp;
    if (dmp !== 'active' && dmp !== 'closed' && dmp !== 'none') { res.status(400).json({ error: 'dmp must be active, closed or none' }); return; }
    try {
      store.setPatient({ patientId: normalizePatient(req.params.patientId), dmp });
      res.status(204).end();
    } catch (error) {
      res.status(400).json({ error: (error as Error).message });
    }
  });
  router.get('/stats', (_req, res) => { res.json({ documents: store.documentCount() }); });
  return router;
}
