/**
 * `passerelle sim dmp|mss`: the DMP or the MSSanté sandbox on its own, with the development PKI
 * (made in the data directory when missing): its server certificate, and the development root as
 * the CA of the client certificates (and, for the DMP, signatures) it accepts.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.js';
import { badRequest } from '../../domain/errors.js';
import { startDmpSandbox, type DmpSandbox } from '../../sim/dmp/sandbox-server.js';
import { DEBIAN_DOVECOT_BINARY, certificateNameOf, startDovecot, type DovecotInstance } from '../../sim/mss/dovecot.js';
import { MDN_MODES, startMssSandbox, type MdnMode, type MssSandbox } from '../../sim/mss/sandbox-server.js';
import { pemOfIdentity } from '../../signing/identity.js';
import { TrustStore } from '../../signing/trust-store.js';
import { createLogger } from '../../support/logger.js';
import type { CliIo } from '../io.js';
import { DEV_PKI_FILES, ensureDevPki, readDevPki } from './pki.js';

const SIM_USAGE = 'usage: passerelle sim dmp [--port N] [--pki DIR] [--database FILE] [--xds-schemas DIR] | passerelle sim mss [--port N] [--starttls] [--pki DIR] [--mailbox ADDRESS] [--mdn processed|error|none|delayed]';

export async function runSim(args: readonly string[], io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  if (what === 'mss') return runMssSim(rest, io);
  if (what !== 'dmp') throw badRequest(SIM_USAGE);
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
  const { trustPem, identity } = readDevPki(o.pkiDir);
  return startDmpSandbox({
    port: o.port,
    ...(o.host === undefined ? {} : { host: o.host }),
    serverIdentity: identity(DEV_PKI_FILES.server),
    clientCaPem: trustPem,
    trust: TrustStore.fromPem(trustPem),
    databasePath: o.databasePath,
    repositoryUniqueId: o.repositoryUniqueId,
    ...(o.xdsSchemaDir === undefined ? {} : { xdsSchemaDir: o.xdsSchemaDir }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  });
}

/** The development application mailbox (BAL applicative), when the configuration names none. */
export const DEV_APPLICATION_MAILBOX = 'passerelle@sandbox.mssante.fr';

async function runMssSim(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { port: { type: 'string' }, starttls: { type: 'boolean' }, pki: { type: 'string' }, mailbox: { type: 'string' }, mdn: { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  const config = loadConfig(io.env, values.config === undefined ? {} : { overrides: { configFile: values.config } });
  const port = values.port === undefined ? 4650 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw badRequest('--port must be a port number');
  const mdn = values.mdn ?? 'processed';
  if (!(MDN_MODES as readonly string[]).includes(mdn)) throw badRequest(`--mdn must be one of ${MDN_MODES.join(', ')}`);
  const sandbox = await startConfiguredMssSandbox({
    pkiDir: values.pki ?? ensureDevPki(config.dataDir),
    port,
    tls: values.starttls === true ? 'starttls' : 'implicit',
    mailbox: values.mailbox ?? config.mss.from ?? DEV_APPLICATION_MAILBOX,
    mdn: mdn as MdnMode,
    logger: createLogger(config.log.level),
  });
  io.stdout(`${mssSandboxBanner(sandbox)}\n`);
  await io.stopSignal;
  await sandbox.close();
  return 0;
}

export interface ConfiguredMssSandbox {
  readonly smtp: MssSandbox;
  /** Absent when Dovecot is not installed: acknowledgements then cannot be read. */
  readonly imap?: DovecotInstance;
  readonly mailbox: string;
  close(): Promise<void>;
}

export function mssSandboxBanner(sandbox: ConfiguredMssSandbox): string {
  const imap = sandbox.imap === undefined
    ? 'no IMAP: Dovecot is not installed (apt-get install dovecot-imapd), acknowledgements cannot be read'
    : `IMAPS 127.0.0.1:${String(sandbox.imap.port)} for ${sandbox.mailbox}`;
  return `MSSanté sandbox: SMTP ${sandbox.smtp.host}:${String(sandbox.smtp.port)}; ${imap}`;
}

/**
 * The MSSanté sandbox with a development PKI folder: SMTP with its server certificate, accepting
 * the ORG AUTH_CLI certificates of its root; and, when Dovecot is installed, the application
 * mailbox's IMAP server (under the data directory), where the acknowledgements go.
 */
export async function startConfiguredMssSandbox(o: { pkiDir: string; port: number; tls: 'implicit' | 'starttls'; mailbox: string; mdn?: MdnMode; logger?: ReturnType<typeof createLogger> }): Promise<ConfiguredMssSandbox> {
  const { trustPem, identity } = readDevPki(o.pkiDir);
  const server = identity(DEV_PKI_FILES.server);
  const client = identity(DEV_PKI_FILES.orgAuth);
  // Dovecot's folder is a fresh one under the system's temporary folder: its Unix sockets need a
  // short path, and as root its mail processes run as an unprivileged user that must reach it.
  const imapDir = existsSync(DEBIAN_DOVECOT_BINARY) ? mkdtempSync(join(tmpdir(), 'passerelle-imap-')) : undefined;
  if (imapDir !== undefined) chmodSync(imapDir, 0o711);
  const imap = imapDir !== undefined
    ? await startDovecot({
      dir: imapDir,
      serverCertPem: pemOfIdentity(server).certificatePem,
      serverKeyPem: pemOfIdentity(server).keyPem,
      clientCaPem: trustPem,
      users: [{ mailbox: o.mailbox, certificateName: certificateNameOf(client.certificate) }],
    })
    : undefined;
  try {
    const smtp = await startMssSandbox({
      port: o.port,
      tls: o.tls,
      serverIdentity: server,
      clientCaPem: trustPem,
      ...(imap === undefined ? {} : { mailboxes: imap }),
      ...(o.mdn === undefined ? {} : { mdn: o.mdn }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
    const close = async (): Promise<void> => {
      await smtp.close();
      await imap?.stop();
      if (imapDir !== undefined) rmSync(imapDir, { recursive: true, force: true });
    };
    return { smtp, ...(imap === undefined ? {} : { imap }), mailbox: o.mailbox, close };
  } catch (error) {
    await imap?.stop();
    if (imapDir !== undefined) rmSync(imapDir, { recursive: true, force: true });
    throw error;
  }
}
