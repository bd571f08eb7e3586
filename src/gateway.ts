/**
 * The composition root: the only place where configuration, store, validator, intake, metrics,
 * the delivery pipeline (its steps, partners' clients and worker) and the HTTP server are wired
 * together.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config.js';
import type { JobKind } from './domain/submission.js';
import { createApp } from './http/app.js';
import { HttpMetrics } from './http/metrics.js';
import { ActReportIntake } from './intake/accept-act-report.js';
import { ActReportValidator } from './intake/act-report-validator.js';
import { AcknowledgementReader } from './pipeline/acknowledgements.js';
import { registerPipelineMetrics } from './pipeline/metrics.js';
import { BuildStep } from './pipeline/steps/build.js';
import { DmpStep } from './pipeline/steps/dmp.js';
import { MssStep } from './pipeline/steps/mss.js';
import type { Step } from './pipeline/steps/step.js';
import { WebhookStep, type TenantWebhook } from './pipeline/steps/webhook.js';
import { Worker } from './pipeline/worker.js';
import { loadSigner, type Signer } from './signing/configured-signer.js';
import { describeName } from './signing/identity.js';
import { configuredDocumentFactory, type DocumentFactory } from './pipeline/produce-document.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import type { Logger } from './support/logger.js';
import { configuredDmpClient } from './transports/dmp/configured-dmp-client.js';
import { configuredMssClient } from './transports/mss/configured-mss-client.js';
import { AnsKit } from './validation/kit.js';


export interface Gateway {
  readonly url: string;
  readonly store: Store;
  readonly server: Server;
  readonly worker: Worker;
  close(): Promise<void>;
}

/** Opens and migrates the configured store. */
export async function openConfiguredStore(config: Config): Promise<Store> {
  const store = openStore(config.store.url, { poolMax: config.store.poolMax, ...(config.store.schema === undefined ? {} : { postgresSchema: config.store.schema }) });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export async function startGateway(config: Config, logger: Logger, existingStore?: Store): Promise<Gateway> {
  // Document types and the kit are checked before anything listens: a broken file stops the start.
  const kit = config.validation.kitDir === undefined ? undefined : new AnsKit(config.validation.kitDir);
  const factory = configuredDocumentFactory(config, kit);
  // The signing identity is checked before anything listens too: unreadable, not chaining to the
  // trust store or expired, the gateway does not start.
  const signer = config.signing.identity === undefined || config.signing.trustFile === undefined ? undefined : loadSigner(config.signing.identity, config.signing.trustFile, new Date());
  const webhooks = readWebhooks(config);
  const store = existingStore ?? (await openConfiguredStore(config));
  const metrics = new HttpMetrics();
  const { worker, acknowledgements } = pipeline(config, store, logger, factory, signer, webhooks, metrics);
  const validator = new ActReportValidator(() => ({ now: new Date(), clockSkewMs: config.intake.clockSkewMs, maxPdfBytes: config.intake.maxPdfBytes, ngapActCodes: config.intake.ngapActCodes }));
  const app = createApp({ store, intake: new ActReportIntake(store, validator, () => { worker.wake(); }), logger, metrics, maxBodyBytes: config.http.maxBodyBytes, clientCertificates: config.http.clientCertificates, operatorTenants: config.http.operatorTenants });

  const tls = config.http.tls;
  const server: Server = tls === undefined
    ? createHttpServer(app)
    : createHttpsServer({
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile) }),
      requestCert: tls.clientAuth !== 'off',
      // "optional": the handshake completes without a valid certificate; auth.ts then only trusts
      // certificates the TLS layer verified (socket.authorized).
      rejectUnauthorized: tls.clientAuth === 'required',
      minVersion: 'TLSv1.2',
    }, app);
  // Bounds against slow clients holding connections open.
  server.headersTimeout = 15_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => { server.off('error', reject); resolve(); });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
  logger.info({ url, store: store.kind, kit: kit !== undefined, signingCertificate: signer === undefined ? undefined : describeName(signer.identity.certificate.subject), signingCertificateValidTo: signer?.identity.certificate.validTo, worker: worker.owner }, 'gateway listening');
  worker.start();
  acknowledgements?.start();

  return {
    url,
    store,
    server,
    worker,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeIdleConnections();
      });
      await acknowledgements?.stop();
      await worker.stop();
      await store.close();
      kit?.dispose();
    },
  };
}

/** The tenants' webhook secrets, read once at start: a missing file stops the start. */
function readWebhooks(config: Config): ReadonlyMap<string, TenantWebhook> {
  return new Map(config.webhooks.map((w) => [w.tenantId, { url: w.url, secret: Buffer.from(readFileSync(w.secretFile, 'utf8').trim(), 'utf8') }]));
}

/**
 * The pipeline's steps for what is configured: build always; the DMP and MSSanté when their
 * partner is configured and a signing identity is there to sign with; webhooks when a tenant has one.
 */
function pipeline(config: Config, store: Store, logger: Logger, factory: DocumentFactory, signer: Signer | undefined, webhooks: ReadonlyMap<string, TenantWebhook>, metrics: HttpMetrics): { worker: Worker; acknowledgements: AcknowledgementReader | undefined } {
  const dmp = signer !== undefined && config.dmp.url !== undefined ? configuredDmpClient(config, signer.identity) : undefined;
  const mss = signer !== undefined && config.mss.smtp !== undefined ? configuredMssClient(config) : undefined;
  const steps: Step[] = [new BuildStep({ store, factory, ...(signer === undefined ? {} : { signer }), dmp: dmp !== undefined, ...(mss === undefined ? {} : { mss }) })];
  if (dmp !== undefined) steps.push(new DmpStep(store, dmp));
  if (mss !== undefined) steps.push(new MssStep(store, mss));
  if (webhooks.size > 0) steps.push(new WebhookStep(store, webhooks));
  const terminalJobs = (tenantId: string): readonly JobKind[] => (webhooks.has(tenantId) ? ['webhook'] : []);
  const worker = new Worker({ store, steps, config: config.pipeline, logger, onTerminal: terminalJobs, observe: (kind, outcome, seconds) => { observe(kind, outcome, seconds); } });
  const observe = registerPipelineMetrics(metrics.registry, { store, breakers: () => worker.breakerStates() });
  const acknowledgements = mss === undefined || config.mss.imap === undefined ? undefined : new AcknowledgementReader({ store, mss, pollMs: config.pipeline.acknowledgementPollMs, logger, terminalJobs: webhooks.size > 0 ? ['webhook'] : [] });
  return { worker, acknowledgements };
}
