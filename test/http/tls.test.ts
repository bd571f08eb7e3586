import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { expect } from 'chai';
import { makeTestPki, type TestPki } from '../support/openssl-pki.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

interface TlsClient { readonly cert?: Buffer; readonly key?: Buffer; readonly token?: string }

/** GET over real TLS, verifying the server against the test CA (never skipping verification). */
function get(url: string, ca: Buffer, client: TlsClient): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, ...(client.cert === undefined ? {} : { cert: client.cert, key: client.key }), headers: client.token === undefined ? {} : { authorization: `Bearer ${client.token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
    });
    req.on('error', reject);
    req.end();
  });
}

for (const clientAuth of ['optional', 'required'] as const) {
  describe(`HTTPS with ${clientAuth} client certificates`, function () {
    let pki: TestPki;
    let gw: TestGateway;
    before(async function () {
      pki = makeTestPki();
      const configFile = join(pki.dir, 'config.json');
      writeFileSync(configFile, JSON.stringify({ http: { clientCertificates: [{ fingerprint256: pki.client.fingerprint256, tenantId: 'acme', role: 'support' }] } }));
      gw = await startTestGateway(this, 'sqlite', {
        PASSERELLE_CONFIG: configFile,
        PASSERELLE_TLS_CERT_FILE: pki.serverCertFile,
        PASSERELLE_TLS_KEY_FILE: pki.serverKeyFile,
        PASSERELLE_TLS_CA_FILE: pki.caFile,
        PASSERELLE_TLS_CLIENT_AUTH: clientAuth,
      });
    });
    after(async () => {
      await gw?.close();
      pki?.remove();
    });

    it('serves HTTPS on loopback', () => {
      expect(gw.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    });

    it('authenticates a client certificate bound to a tenant in the configuration', async () => {
      const res = await get(`${gw.url}/v1/submissions`, pki.ca, pki.client);
      expect(res.status, res.body).to.equal(200);
    });

    it('never lets a certificate from another CA in', async () => {
      const outcome = await get(`${gw.url}/v1/submissions`, pki.ca, pki.stranger).then((r) => r.status, (e: unknown) => String(e));
      // optional: the handshake completes but the unverified certificate counts for nothing;
      // required: the server ends the handshake.
      if (clientAuth === 'optional') expect(outcome).to.equal(401);
      else expect(outcome).to.be.a('string');
    });

    it(clientAuth === 'optional' ? 'still accepts an API key without a certificate' : 'refuses a connection without a certificate', async () => {
      const outcome = await get(`${gw.url}/v1/submissions`, pki.ca, { token: gw.keys.support }).then((r) => r.status, (e: unknown) => String(e));
      if (clientAuth === 'optional') expect(outcome).to.equal(200);
      else expect(outcome).to.be.a('string');
    });
  });
}
