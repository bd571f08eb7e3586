/**
 * The TLS side of the sandboxes: their server certificate, and a client certificate required from
 * the configured CA before anything else is said, as the DMP and the MSSanté operators require.
 */
import { pemOfIdentity, type SigningIdentity } from '../signing/identity.js';

export function mutualTlsServerOptions(serverIdentity: SigningIdentity, clientCaPem: string): { cert: string; key: string; ca: string; requestCert: true; rejectUnauthorized: true; minVersion: 'TLSv1.2' } {
  const { certificatePem, keyPem } = pemOfIdentity(serverIdentity);
  return { cert: certificatePem, key: keyPem, ca: clientCaPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}
