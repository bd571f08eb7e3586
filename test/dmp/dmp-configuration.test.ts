/**
 * The DMP as users configure and run it: `passerelle sim dmp` as its own process, the client
 * built from the configuration (ORG AUTH_CLI identity, trust store, time-outs, XDS and VIHF
 * values), and the configuration's refusals listed all at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEV_PKI_FILES } from '../../src/cli/commands/pki.js';
import { loadConfig } from '../../src/config/config.js';
import { PasserelleError } from '../../src/domain/errors.js';
import { configuredDmpClient } from '../../src/transports/dmp/configured-dmp-client.js';
import type { Cx } from '../../src/xds/model.js';
import { devPkiFolder, type DevPkiFolder } from '../support/dmp.js';

const PATIENT: Cx = { id: '279035121518989', assigningAuthority: '1.2.250.1.213.1.4.10', identifierTypeCode: 'NH' };

describe('the DMP configured and run as users do', function () {
  this.timeout(60_000);
  let pki: DevPkiFolder;
  let sandbox: ChildProcess;
  let url: string;

  before(async () => {
    pki = devPkiFolder();
    sandbox = spawn(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'sim', 'dmp', '--port', '0', '--pki', pki.dir, '--database', join(pki.dir, 'sandbox.db')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PASSERELLE_LOG_LEVEL: 'warn', PASSERELLE_DATA_DIR: pki.dir } });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      sandbox.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /DMP sandbox on (https:\/\/\S+)/.exec(out);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      sandbox.once('exit', (code) => { reject(new Error(`passerelle sim dmp exited (${String(code)})`)); });
    });
  });
  after(async () => {
    sandbox.kill('SIGINT');
    await new Promise((resolve) => sandbox.once('exit', resolve));
    pki.remove();
  });

  it('reaches `passerelle sim dmp` with the client the configuration describes', async () => {
    const env = {
      PASSERELLE_DMP_URL: url,
      PASSERELLE_DMP_PKCS12_FILE: join(pki.dir, DEV_PKI_FILES.orgAuth),
      PASSERELLE_DMP_PASSPHRASE_FILE: join(pki.dir, DEV_PKI_FILES.passphrase),
      PASSERELLE_TRUST_FILE: join(pki.dir, DEV_PKI_FILES.trust),
      PASSERELLE_SIGNING_PKCS12_FILE: join(pki.dir, DEV_PKI_FILES.orgSign),
      PASSERELLE_SIGNING_PASSPHRASE_FILE: join(pki.dir, DEV_PKI_FILES.passphrase),
      PASSERELLE_DMP_RESPONSE_TIMEOUT_MS: '5000',
    };
    const config = loadConfig(env);
    expect(config.dmp).to.deep.include({ url, responseTimeoutMs: 5000, patientCheck: 'td0.2' });
    const client = configuredDmpClient(config, pki.identity(DEV_PKI_FILES.orgSign));
    expect(await client.patientStatus(PATIENT)).to.equal('active');
    expect((await client.findDocuments(PATIENT)).verdict.outcome).to.equal('success');
  });

  it('lists every problem of a DMP configuration at once', () => {
    try {
      loadConfig({ PASSERELLE_DMP_URL: 'http://dmp.example', PASSERELLE_DMP_REPOSITORY_UNIQUE_ID: 'repository', PASSERELLE_DMP_PATIENT_CHECK: 'maybe', PASSERELLE_DMP_CONNECT_TIMEOUT_MS: '5' });
      expect.fail('accepted');
    } catch (error) {
      expect(error).to.be.instanceOf(PasserelleError);
      const pointers = (error as PasserelleError).violations.map((v) => v.pointer);
      expect(pointers).to.include.members(['/dmp/url', '/dmp/tlsIdentity', '/dmp/repositoryUniqueId', '/dmp/patientCheck', '/dmp/connectTimeoutMs']);
    }
  });
});
