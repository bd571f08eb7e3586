/**
 * The MSSanté client the configuration describes: the application mailbox's address and TLS
 * client certificate for SMTP and IMAP, the trust store the servers' certificates must chain to,
 * the time-outs, the optional headers, and the XDS values of the archive's metadata.
 */
import type { Config } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { loadSigningIdentity } from '../../signing/identity.js';
import { readTrustPem, tlsClientOptions } from '../soap/http-client.js';
import { MssClient } from './mss-client.js';

export function configuredMssClient(config: Config): MssClient {
  const { mss } = config;
  const trustFile = mss.trustFile ?? config.signing.trustFile;
  if (mss.smtp === undefined || mss.from === undefined || mss.tlsIdentity === undefined || trustFile === undefined) {
    throw new PasserelleError('config-invalid', 'the MSSanté client needs mss.smtp, mss.from, the mailbox\'s certificate (mss.tlsIdentity) and a trust store (mss.trustFile or signing.trustFile)');
  }
  const trustPem = readTrustPem(trustFile, 'MSSanté');
  const tls = tlsClientOptions(loadSigningIdentity(mss.tlsIdentity), trustPem);
  return new MssClient({
    smtp: { host: mss.smtp.host, port: mss.smtp.port, secure: mss.smtp.tls === 'implicit', tls, timeouts: { connectMs: mss.connectTimeoutMs, greetingMs: mss.connectTimeoutMs, socketMs: mss.responseTimeoutMs } },
    ...(mss.imap === undefined ? {} : { imap: { host: mss.imap.host, port: mss.imap.port, secure: true as const, tls, user: mss.from, timeouts: { connectMs: mss.connectTimeoutMs, socketMs: mss.responseTimeoutMs } } }),
    from: mss.from,
    requestAcknowledgement: mss.requestAcknowledgement,
    attachPdf: mss.attachPdf,
    headers: mss.headers,
    sourceId: config.dmp.sourceId,
    contentTypeCode: { code: config.dmp.contentTypeCode.code, codingScheme: config.dmp.contentTypeCode.codeSystem, displayName: config.dmp.contentTypeCode.displayName },
  });
}
