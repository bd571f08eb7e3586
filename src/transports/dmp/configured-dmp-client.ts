/**
 * The DMP client the configuration describes: the ORG AUTH_CLI identity for mutual TLS, the
 * trust store the DMP's server certificate must chain to, the time-outs, and the structure's
 * XDS and VIHF values. Called by the composition root and the CLI only.
 */
import type { Config } from '../../config/config.js';
import { PasserelleError } from '../../domain/errors.js';
import { loadSigningIdentity, type SigningIdentity } from '../../signing/identity.js';
import { XADES_PROFILES } from '../../signing/xades.js';
import { createMtlsAgent, readTrustPem, tlsClientOptions } from '../soap/http-client.js';
import { DmpClient } from './dmp-client.js';

export function configuredDmpClient(config: Config, signer: SigningIdentity): DmpClient {
  const dmp = config.dmp;
  const trustFile = dmp.trustFile ?? config.signing.trustFile;
  if (dmp.url === undefined || dmp.tlsIdentity === undefined || trustFile === undefined) {
    throw new PasserelleError('config-invalid', 'the DMP client needs dmp.url, the ORG AUTH_CLI identity (dmp.tlsIdentity) and a trust store (dmp.trustFile or signing.trustFile)');
  }
  const trustPem = readTrustPem(trustFile, 'DMP');
  const agent = createMtlsAgent(tlsClientOptions(loadSigningIdentity(dmp.tlsIdentity), trustPem));
  return new DmpClient({
    baseUrl: dmp.url,
    agent,
    timeouts: { connectMs: dmp.connectTimeoutMs, tlsMs: dmp.tlsTimeoutMs, responseMs: dmp.responseTimeoutMs },
    maxResponseBytes: dmp.maxResponseBytes,
    signer,
    vihf: dmp.vihf,
    structureId: dmp.structureId,
    vihfValiditySeconds: config.signing.vihfValiditySeconds,
    xadesProfile: XADES_PROFILES[config.signing.xadesProfile],
    repositoryUniqueId: dmp.repositoryUniqueId,
    sourceId: dmp.sourceId,
    contentTypeCode: { code: dmp.contentTypeCode.code, codingScheme: dmp.contentTypeCode.codeSystem, displayName: dmp.contentTypeCode.displayName },
    patientCheck: dmp.patientCheck,
  });
}
