/**
 * `passerelle sim dmp`: the DMP sandbox on its own, with the development PKI (made in the data
 * directory when missing): its server certificate, and the development root as the CA of the
 * client certificates and signatures it accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { badRequest } from '../../domain/errors.js';
import { startDmpSandbox, type DmpSandbox } from '../../sim/dmp/sandbox-server.js';
import { loadSigningIdentity } from '../../signing/identity.js';
import { TrustStore } from '../../signing/trust-store.js';
import { createLogger } from '../../support/logger.js';
import type { CliIo } from '../io.js';
import { DEV_PKI_FILES, ensureDevPki } from './pki.js';

export async function runSim(args: readonly string[], io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'dmp') throw badRequest('usage: passerelle sim dmp [--port N] [--pki DIR] [--database FILE] [--xds-schemas DIR]');
  const { values } = parseArgs({
    args: rest,
    options: { port: { type: 'string' }, pki: { type: 'string' }, database: { type: 'string' }, 'xds-schemas': { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const port = values.port === undefined ? 8443 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw badRequest('--port must be a port number');
  const pkiDir = values.pki ?? ensureDevPki(config.dataDir);
  const sandbox = await startConfiguredDmpSandbox({
    pkiDir,
    port,
    databasePath: values.database ?? join(config.dataDir, 'dmp-sandbox.db'),
    repositoryUniqueId: config.dmp.repositoryUniqueId,
    ...(values['xds-schemas'] === undefined ? {} : { xdsSchemaDir: values['xds-schemas'] }),
    logger: createLogger(config.log.level),
  });
  io.stdout(`DMP sandbox on ${sandbox.url} (services /registry, /repository, /patients; controls /_sandbox)\n  client certificates and signatures from: ${join(pkiDir, DEV_PKI_FILES.trust)}\n`);
  await io.stopSignal;
  await sandbox.close();
  return 0;
}

/** The sandbox with a development PKI folder's server identity and trust anchors. */
export function startConfiguredDmpSandbox(o: { pkiDir: string; port: number; host?: string; databasePath: string; repositoryUniqueId: string; xdsSchemaDir?: string; logger?: ReturnType<typeof createLogger> }): Promise<DmpSandbox> {
  const trustPem = readFileSync(join(o.pkiDir, DEV_PKI_FILES.trust), 'utf8');
  const passphrase = readFileSync(join(o.pkiDir, DEV_PKI_FILES.passphrase), 'utf8').trim();
  return startDmpSandbox({
    port: o.port,
    ...(o.host === undefined ? {} : { host: o.host }),
    serverIdentity: loadSigningIdentity({ pkcs12File: join(o.pkiDir, DEV_PKI_FILES.server), passphrase }),
    clientCaPem: trustPem,
    trust: TrustStore.fromPem(trustPem),
    databasePath: o.databasePath,
    repositoryUniqueId: o.repositoryUniqueId,
    ...(o.xdsSchemaDir === undefined ? {} : { xdsSchemaDir: o.xdsSchemaDir }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  });
}
