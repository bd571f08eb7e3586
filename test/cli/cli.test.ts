import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';
import { fixture } from '../support/fixtures.js';

interface Run { code: number; stdout: string; stderr: string }

async function run(argv: string[], env: Record<string, string>, stop: Promise<string> = new Promise(() => undefined), onStdout?: (text: string) => void): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => { stdout += t; onStdout?.(stdout); }, stderr: (t) => { stderr += t; }, env, stopSignal: stop };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('the passerelle command', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'passerelle-cli-'));
    env = { PASSERELLE_STORE_URL: `sqlite:${join(dir, 'p.db')}`, PASSERELLE_DATA_DIR: dir, PASSERELLE_LOG_LEVEL: 'silent' };
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its usage and exits 2 for an unknown command', async () => {
    const r = await run(['frobnicate'], env);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('unknown command "frobnicate"').and.contain('Usage: passerelle');
  });

  it('creates, lists and revokes API keys, showing the secret only once', async () => {
    const created = await run(['keys', 'create', '--tenant', 'acme', '--role', 'submitter', '--label', 'CI'], env);
    expect(created.code, created.stderr).to.equal(0);
    const token = created.stdout.trim();
    expect(token).to.match(/^key_[0-9A-Z]{26}\.[A-Za-z0-9_-]{43}$/);
    const [id, secret] = token.split('.');
    const listed = await run(['keys', 'list'], env);
    expect(listed.stdout).to.contain(id).and.contain('acme').and.contain('submitter');
    expect(listed.stdout).to.not.contain(secret);
    expect((await run(['keys', 'revoke', id ?? ''], env)).code).to.equal(0);
    const again = await run(['keys', 'revoke', id ?? ''], env);
    expect(again.code).to.equal(4);
    expect(again.stderr).to.contain('no active key');
  });

  it('lists every problem of a bad keys create, exit code 2', async () => {
    const r = await run(['keys', 'create', '--tenant', 'Not A Tenant', '--role', 'owner'], env);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('--tenant').and.contain('--role');
  });

  it('reports every configuration problem at once, exit code 3', async () => {
    const r = await run(['config', 'check'], { ...env, PASSERELLE_PORT: 'eighty', PASSERELLE_LOG_LEVEL: 'loud', PASSERELLE_TLS_CERT_FILE: '/x.pem' });
    expect(r.code).to.equal(3);
    expect(r.stderr).to.contain('PASSERELLE_PORT').and.contain('PASSERELLE_LOG_LEVEL').and.contain('certificate and a key');
  });

  it('reads a configuration file and lets the environment override it', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ http: { port: 9999, host: '0.0.0.0' }, intake: { ngapActCodes: [{ code: 'TCG', label: 'x', actTypes: ['TELECONSULTATION'] }] } }));
    const r = await run(['config', 'check', '--config', file], { ...env, PASSERELLE_PORT: '7000' });
    expect(r.code, r.stderr).to.equal(0);
    const shown = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1)) as { http: { port: number; host: string }; intake: { ngapActCodes: string[] } };
    expect(shown.http).to.include({ port: 7000, host: '0.0.0.0' });
    expect(shown.intake.ngapActCodes).to.deep.equal(['TCG']);
  });

  it('serves in dev mode with a sandbox key that survives a restart and accepts the README example', async () => {
    const serveOnce = async (): Promise<{ key: string; url: string }> => {
      let stopNow: (s: string) => void = () => undefined;
      const stop = new Promise<string>((resolve) => { stopNow = resolve; });
      let ready: (v: { key: string; url: string }) => void = () => undefined;
      const readyP = new Promise<{ key: string; url: string }>((resolve) => { ready = resolve; });
      const done = run(['serve', '--dev', '--port', '0'], env, stop, (out) => {
        const url = /ready on (\S+)/.exec(out)?.[1];
        const key = /(key_[0-9A-Z]{26}\.[A-Za-z0-9_-]{43})/.exec(out)?.[1];
        if (url !== undefined && key !== undefined && out.includes('--data @fixtures')) ready({ key, url });
      });
      const info = await Promise.race([readyP, done.then((r) => { throw new Error(`serve ended: ${r.stderr}`); })]);
      const res = await fetch(`${info.url}/v1/act-reports`, { method: 'POST', headers: { authorization: `Bearer ${info.key}`, 'content-type': 'application/json' }, body: JSON.stringify(fixture('teleconsultation')) });
      expect(res.status).to.equal(202);
      stopNow('SIGTERM');
      expect((await done).code).to.equal(0);
      return info;
    };
    const first = await serveOnce();
    const second = await serveOnce();
    expect(second.key).to.equal(first.key);
    expect(readFileSync(join(dir, 'sandbox-api-key'), 'utf8').trim()).to.equal(first.key);
    expect(statSync(join(dir, 'sandbox-api-key')).mode & 0o777).to.equal(0o600);
  });
});
