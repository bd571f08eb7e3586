/** `passerelle serve`: run the HTTP API until SIGINT/SIGTERM. */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { authenticateApiKey, createApiKey } from '../../auth/api-keys.js';
import { loadConfig, redactUrl, type Config } from '../../config/config.js';
import { openConfiguredStore, startGateway } from '../../gateway.js';
import type { DmpSandbox } from '../../sim/dmp/sandbox-server.js';
import type { Store } from '../../store/store.js';
import { createLogger, type Logger } from '../../support/logger.js';
import type { CliIo } from '../io.js';
import { DEV_PKI_FILES, ensureDevPki } from './pki.js';
import { DEV_APPLICATION_MAILBOX, mssSandboxBanner, startConfiguredDmpSandbox, startConfiguredMssSandbox, type ConfiguredMssSandbox } from './sim.js';

export const SANDBOX_TENANT = 'sandbox';

export async function runServe(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { dev: { type: 'boolean' }, port: { type: 'string' }, store: { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  const loaded = loadConfig(io.env, {
    overrides: {
      ...(values.dev === true ? { dev: true } : {}),
      ...(values.port === undefined ? {} : { port: Number(values.port) }),
      ...(values.store === undefined ? {} : { storeUrl: values.store }),
      ...(values.config === undefined ? {} : { configFile: values.config }),
    },
  });
  const logger = createLogger(loaded.log.level);
  const dmpSandbox = loaded.dev && loaded.dmp.url === undefined ? await startDevDmpSandbox(loaded, logger) : undefined;
  const mssSandbox = loaded.dev && loaded.mss.smtp === undefined ? await startConfiguredMssSandbox({ pkiDir: ensureDevPki(loaded.dataDir), port: 0, tls: 'implicit', mailbox: DEV_APPLICATION_MAILBOX, logger }) : undefined;
  const config = loaded.dev ? withDevOperator(withDevMss(withDevDmp(withDevSigning(loaded), dmpSandbox), mssSandbox)) : loaded;
  const store = await openConfiguredStore(config);
  const sandboxKey = config.dev ? await sandboxApiKey(store, config) : undefined;
  const gateway = await startGateway(config, logger, store);
  io.stdout(readyBanner(gateway.url, config, sandboxKey, dmpSandbox, mssSandbox));
  const signal = await io.stopSignal;
  logger.info({ signal }, 'stopping');
  await gateway.close();
  await dmpSandbox?.close();
  await mssSandbox?.close();
  return 0;
}

/**
 * The sandbox tenant's key, kept in the data directory (mode 0600) so that it survives restarts;
 * a new one is made when the file is missing or its key no longer works.
 */
async function sandboxApiKey(store: Store, config: Config): Promise<string> {
  const file = join(config.dataDir, 'sandbox-api-key');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if ((await authenticateApiKey(store, token)) !== undefined) return token;
  } catch {
    // No key yet: make one below.
  }
  const { token } = await createApiKey(store, { tenantId: SANDBOX_TENANT, role: 'admin', label: 'sandbox (serve --dev)' });
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/**
 * Development mode signs with a development PKI kept in the data directory (made on first start,
 * then reused), unless a signing identity is configured.
 */
function withDevSigning(config: Config): Config {
  if (config.signing.identity !== undefined) return config;
  const dir = ensureDevPki(config.dataDir);
  return {
    ...config,
    signing: { ...config.signing, identity: { pkcs12File: join(dir, DEV_PKI_FILES.orgSign), passphraseFile: join(dir, DEV_PKI_FILES.passphrase) }, trustFile: join(dir, DEV_PKI_FILES.trust) },
  };
}

/** Development mode: the sandbox tenant's admin key also controls the pipeline (pauses). */
function withDevOperator(config: Config): Config {
  return config.http.operatorTenants.includes(SANDBOX_TENANT) ? config : { ...config, http: { ...config.http, operatorTenants: [...config.http.operatorTenants, SANDBOX_TENANT] } };
}

/** Development mode without a DMP URL: the DMP sandbox, in process, on a free port. */
function startDevDmpSandbox(config: Config, logger: Logger): Promise<DmpSandbox> {
  return startConfiguredDmpSandbox({ pkiDir: ensureDevPki(config.dataDir), port: 0, databasePath: join(config.dataDir, 'dmp-sandbox.db'), repositoryUniqueId: config.dmp.repositoryUniqueId, logger });
}

/** The DMP client pointed at the in-process sandbox, with the development ORG AUTH_CLI identity. */
function withDevDmp(config: Config, sandbox: DmpSandbox | undefined): Config {
  if (sandbox === undefined) return config;
  const dir = ensureDevPki(config.dataDir);
  return { ...config, dmp: { ...config.dmp, url: sandbox.url, tlsIdentity: { pkcs12File: join(dir, DEV_PKI_FILES.orgAuth), passphraseFile: join(dir, DEV_PKI_FILES.passphrase) }, trustFile: join(dir, DEV_PKI_FILES.trust) } };
}

/** The MSSanté client pointed at the in-process sandbox, as the development application mailbox. */
function withDevMss(config: Config, sandbox: ConfiguredMssSandbox | undefined): Config {
  if (sandbox === undefined) return config;
  const dir = ensureDevPki(config.dataDir);
  return {
    ...config,
    mss: {
      ...config.mss,
      smtp: { host: sandbox.smtp.host, port: sandbox.smtp.port, tls: 'implicit' },
      ...(sandbox.imap === undefined ? {} : { imap: { host: sandbox.imap.host, port: sandbox.imap.port } }),
      from: sandbox.mailbox,
      tlsIdentity: { pkcs12File: join(dir, DEV_PKI_FILES.orgAuth), passphraseFile: join(dir, DEV_PKI_FILES.passphrase) },
      trustFile: join(dir, DEV_PKI_FILES.trust),
    },
  };
}

function readyBanner(url: string, config: Config, sandboxKey: string | undefined, dmpSandbox: DmpSandbox | undefined, mssSandbox: ConfiguredMssSandbox | undefined): string {
  const lines = [`Passerelle ready on ${url} (store: ${redactUrl(config.store.url)})`, `  API docs: ${url}/docs`];
  if (dmpSandbox !== undefined) lines.push(`  DMP sandbox (XDS.b over mutual TLS): ${dmpSandbox.url}`);
  if (mssSandbox !== undefined) lines.push(`  ${mssSandboxBanner(mssSandbox)}`);
  if (config.dev && config.signing.trustFile !== undefined) lines.push(`  Development PKI (ORG SIGN, ORG AUTH_CLI, sandbox server): ${dirname(config.signing.trustFile)}`);
  if (sandboxKey !== undefined) {
    lines.push(
      `  Sandbox tenant "${SANDBOX_TENANT}" API key (also in ${join(config.dataDir, 'sandbox-api-key')}):`,
      `    ${sandboxKey}`,
      '  Try:',
      `    curl -sS -H "Authorization: Bearer ${sandboxKey}" -H "Content-Type: application/json" \\`,
      `      --data @fixtures/act-reports/teleconsultation.json ${url}/v1/act-reports`,
      '  then follow it to "delivered" (DMP and MSSanté sandboxes):',
      `    curl -sS -H "Authorization: Bearer ${sandboxKey}" ${url}/v1/submissions/<id>/timeline`,
    );
  }
  return `${lines.join('\n')}\n`;
}
