/**
 * The DMP sandbox and client over real TLS on loopback: a development PKI in a temporary folder,
 * the sandbox on a free port with an in-memory store (and the IHE schemas of ../shared when
 * present), and clients holding whatever TLS identity a test needs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_PKI_FILES, readDevPki, writeDevPki } from '../../src/cli/commands/pki.js';
import { startConfiguredDmpSandbox } from '../../src/cli/commands/sim.js';
import { DEFAULT_CONTENT_TYPE_CODE, DEFAULT_VIHF } from '../../src/config/config.js';
import type { DmpSandbox } from '../../src/sim/dmp/sandbox-server.js';
import type { SigningIdentity } from '../../src/signing/identity.js';
import { DmpClient, type DmpClientOptions } from '../../src/transports/dmp/dmp-client.js';
import { createMtlsAgent, tlsClientOptions, type TlsClientOptions } from '../../src/transports/soap/http-client.js';
import { SHARED_DIR } from './shared.js';

export const REPOSITORY_UNIQUE_ID = '2.999.1.1';
export const SOURCE_ID = '2.999.1.2';

export interface DevPkiFolder {
  readonly dir: string;
  readonly trustPem: string;
  identity(file: string): SigningIdentity;
  /** PEM strings of an identity, for a TLS client. */
  tls(file: string): TlsClientOptions;
  remove(): void;
}

export function devPkiFolder(now = new Date(), validityDays = 30): DevPkiFolder {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-dmp-pki-'));
  writeDevPki(dir, { finess: '750803447', organisation: 'CENTRE HOSPITALIER DE TEST', now, validityDays });
  const { trustPem, identity } = readDevPki(dir);
  return {
    dir,
    trustPem,
    identity,
    tls: (file) => tlsClientOptions(identity(file), trustPem),
    remove: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** The IHE schemas the sandbox checks requests against, when ../shared has them. */
export const XDS_SCHEMA_DIR = `${SHARED_DIR}ihe/schema`;

export function startTestSandbox(pki: DevPkiFolder): Promise<DmpSandbox> {
  return startConfiguredDmpSandbox({ pkiDir: pki.dir, port: 0, databasePath: ':memory:', repositoryUniqueId: REPOSITORY_UNIQUE_ID, ...(existsSync(XDS_SCHEMA_DIR) ? { xdsSchemaDir: XDS_SCHEMA_DIR } : {}) });
}

/** A DMP client of the sandbox; `tls` and `signer` default to the PKI's ORG AUTH_CLI and ORG SIGN. */
export function testClient(pki: DevPkiFolder, sandbox: DmpSandbox, overrides: Partial<DmpClientOptions> & { tls?: TlsClientOptions } = {}): DmpClient {
  const { tls, ...rest } = overrides;
  return new DmpClient({
    baseUrl: sandbox.url,
    agent: createMtlsAgent(tls ?? pki.tls(DEV_PKI_FILES.orgAuth)),
    timeouts: { connectMs: 2000, tlsMs: 2000, responseMs: 10_000 },
    maxResponseBytes: 64 * 1024 * 1024,
    signer: pki.identity(DEV_PKI_FILES.orgSign),
    vihf: DEFAULT_VIHF,
    structureId: '1750803447',
    vihfValiditySeconds: 300,
    repositoryUniqueId: REPOSITORY_UNIQUE_ID,
    sourceId: SOURCE_ID,
    contentTypeCode: { code: DEFAULT_CONTENT_TYPE_CODE.code, codingScheme: DEFAULT_CONTENT_TYPE_CODE.codeSystem, displayName: DEFAULT_CONTENT_TYPE_CODE.displayName },
    ...rest,
  });
}
