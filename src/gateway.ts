/**
 * The composition root: the only place where configuration, store, validator, intake, metrics
 * and the HTTP server are wired together.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config.js';
import { createApp } from './http/app.js';
import { HttpMetrics } from './http/metrics.js';
import { ActReportIntake } from './intake/accept-act-report.js';
import { ActReportValidator } from './intake/act-report-validator.js';
import { BuildStep } from './pipeline/build-step.js';
import { loadSigner } from './signing/configured-signer.js';
import { describeName } from './signing/identity.js';
import { configuredDocumentFactory } from './pipeline/produce-document.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';
import type { Logger } from './support/logger.js';
import { AnsKit } from './validation/kit.js';


export interface Gateway {
  readonly url: string;
  readonly store: Store;
  readonly server: Server;
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
  const { identity } = config.signing.identity === undefined || config.signing.trustFile === undefined ? { identity: undefined } : loadSigner(config.signing.identity, config.signing.trustFile, new Date());
  const store = existingStore ?? (await openConfiguredStore(config));
  const buildStep = new BuildStep({ store, logger, factory });
  const validator = new ActReportValidator(() => ({ now: new Date(), clockSkewMs: config.intake.clockSkewMs, maxPdfBytes: config.intake.maxPdfBytes, ngapActCodes: config.intake.ngapActCodes }));
  const metrics = new HttpMetrics();
  const app = createApp({ store, intake: new ActReportIntake(store, validator), logger, metrics, maxBodyBytes: config.http.maxBodyBytes, clientCertificates: config.http.clientCertificates });

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
  logger.info({ url, store: store.kind, kit: kit !== undefined, signingCertificate: identity === undefined ? undefined : describeName(identity.certificate.subject), signingCertificateValidTo: identity?.certificate.validTo }, 'gateway listening');
  buildStep.start();

  return {
    url,
    store,
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeIdleConnections();
      });
      await buildStep.stop();
      await store.close();
      kit?.dispose();
    },
  };
}
