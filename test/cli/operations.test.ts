import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { GENESIS_HASH, eventHash } from '../../src/store/audit-chain.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { newId } from '../../src/support/new-id.js';
import { runCli } from '../support/cli.js';
import { fixture } from '../support/fixtures.js';

const ACTOR = `cli:${userInfo().username}`;

describe('the operator commands: submissions, audit, pipeline', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);

  /** Opens the test's store for the duration of `work` (the CLI opens its own). */
  async function withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
    const store = openStore(`sqlite:${file}`);
    try {
      await store.migrate();
      return await work(store);
    } finally {
      await store.close();
    }
  }

  /** A submission of tenant acme that failed at the DMP (XDSRegistryBusy) and was sent by MSSanté. */
  async function failedSubmission(store: Store, requestId = newId('req')): Promise<string> {
    const id = newId('sub');
    const at = new Date();
    await store.createSubmission({ id, tenantId: 'acme', idempotencyKey: null, requestHash: 'h', requestId, actType: 'TELEEXPERTISE', input: fixture('teleexpertise'), createdAt: at, events: [{ type: 'received', at, actor: 'apikey:test', data: {} }] });
    const error = { code: 'XDSRegistryBusy', message: 'the registry is busy' };
    const documentId = `1.2.250.1.999.${id.slice(4)}`;
    const applied = await store.applyChange({
      submissionId: id,
      at,
      document: { submissionId: id, type: 'tlm-cr', volet: 'TLM-CR_2022.01', documentId, setId: `${documentId}.1`, versionNumber: 1, xml: Buffer.from('<ClinicalDocument/>'), pdf: null, builtAt: at },
      deliveries: [
        { submissionId: id, destination: 'dmp', status: 'failed', reference: null, detail: { attempts: 10, error }, updatedAt: at },
        { submissionId: id, destination: 'mss:a@test.mssante.fr', status: 'sent', reference: '<m@test>', detail: { attempts: 1 }, updatedAt: at },
      ],
      events: [
        { type: 'built', at, actor: 'worker', data: {} },
        { type: 'signed', at, actor: 'worker', data: {} },
        { type: 'sent', at, actor: 'worker', data: { destination: 'mss:a@test.mssante.fr', reference: '<m@test>', attempt: 1 } },
        { type: 'retrying', at, actor: 'worker', data: { destination: 'dmp', attempt: 9, nextAttemptAt: at.toISOString(), error } },
        { type: 'delivery-failed', at, actor: 'worker', data: { destination: 'dmp', attempt: 10, error, deadLetter: true } },
      ],
      statusPath: ['built', 'signed', 'sending', 'failed'],
    });
    expect(applied).to.equal(true);
    return id;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'passerelle-ops-'));
    file = join(dir, 'p.db');
    env = { PASSERELLE_STORE_URL: `sqlite:${file}`, PASSERELLE_DATA_DIR: dir, PASSERELLE_LOG_LEVEL: 'silent' };
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists a tenant\'s submissions, by status and by request id, as a table or JSON', async () => {
    const [a, b] = await withStore(async (store) => [await failedSubmission(store, 'trace-a'), await failedSubmission(store, 'trace-b')]);
    const table = await cli('submissions', 'list', '--tenant', 'acme');
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout.split('\n')[0]).to.match(/^ID\tSTATUS/);
    expect(table.stdout).to.contain(`${a ?? ''}\tfailed\tTELEEXPERTISE\ttrace-a`).and.contain(b);
    const json = await cli('submissions', 'list', '--tenant', 'acme', '--request-id', 'trace-b', '--json');
    expect(JSON.parse(json.stdout).items.map((s: { id: string }) => s.id)).to.deep.equal([b]);
    expect(JSON.parse((await cli('submissions', 'list', '--tenant', 'acme', '--status', 'delivered', '--json')).stdout).items).to.deep.equal([]);
    expect(JSON.parse((await cli('submissions', 'list', '--tenant', 'globex', '--json')).stdout).items).to.deep.equal([]);
  });

  it('lists every problem of a bad command line, exit code 2', async () => {
    const r = await cli('submissions', 'list', '--status', 'lost', '--limit', '0');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('--tenant is required').and.contain('--status must be one of').and.contain('--limit must be');
    expect((await cli('submissions', 'frobnicate')).code).to.equal(2);
    expect((await cli('submissions', 'replay', 'sub_x', '--tenant', 'acme', '--dry-run')).stderr).to.contain('takes no filter (--dry-run)');
    expect((await cli('submissions', 'list', '--tenant')).code).to.equal(2);
    expect((await cli('pipeline', 'pause', 'fax')).stderr).to.contain('build, dmp, mss, webhook');
    expect((await cli('audit', 'verify', '--submission', 'nope')).code).to.equal(2);
  });

  it('shows a submission: its status, its deliveries with the last error, its timeline', async () => {
    const id = await withStore((store) => failedSubmission(store));
    const r = await cli('submissions', 'show', id, '--tenant', 'acme');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.split('\n')[0]).to.contain(id).and.contain('failed');
    expect(r.stdout).to.match(/ {2}dmp {2}failed {2}attempts 10 {2}XDSRegistryBusy: the registry is busy/);
    expect(r.stdout).to.match(/mss:a@test\.mssante\.fr {2}sent {2}attempts 1 {2}ref <m@test>/);
    expect(r.stdout).to.match(/retrying +dmp {2}worker {2}next attempt \S+ {2}XDSRegistryBusy/);
    const json = JSON.parse((await cli('submissions', 'show', id, '--tenant', 'acme', '--json')).stdout);
    expect(json.timeline.destinations.dmp.status).to.equal('failed');
    expect(json.deliveries).to.have.length(2);
    const other = await cli('submissions', 'show', id, '--tenant', 'globex');
    expect(other.code).to.equal(4);
    expect(other.stderr).to.contain('no submission');
  });

  it('replays a failed submission naming the user, refuses a second replay (exit 1), replays by filter with a dry run', async () => {
    const [first, second] = await withStore(async (store) => [await failedSubmission(store), await failedSubmission(store)]);
    const r = await cli('submissions', 'replay', first ?? '', '--tenant', 'acme');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`Replaying ${first ?? ''} to dmp\n`);
    const again = await cli('submissions', 'replay', first ?? '', '--tenant', 'acme');
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('in-progress');
    expect((await cli('submissions', 'replay', newId('sub'), '--tenant', 'acme')).code).to.equal(4);

    const dry = await cli('submissions', 'replay', '--tenant', 'acme', '--destination', 'dmp', '--error-code', 'XDSRegistryBusy', '--dry-run');
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.equal(`would replay\t${second ?? ''}\n`);
    expect(dry.stderr).to.contain('1 matched, 1 would be replayed (dry run');
    const none = await cli('submissions', 'replay', '--tenant', 'acme', '--error-code', 'XDSUnknownPatientId');
    expect(none.stderr).to.contain('0 matched');
    const bulk = await cli('submissions', 'replay', '--tenant', 'acme', '--since', '2000-01-01T00:00:00Z', '--status', 'sending');
    expect(bulk.stdout).to.equal(`skipped\t${first ?? ''}\tin-progress\n`);
    const all = await cli('submissions', 'replay', '--tenant', 'acme', '--rebuild');
    expect(all.stdout).to.equal(`replayed\t${second ?? ''}\n`);

    await withStore(async (store) => {
      expect((await store.getSubmission('acme', first ?? ''))?.status).to.equal('sending');
      expect((await store.getSubmission('acme', second ?? ''))?.status).to.equal('received');
      const replayed = (await store.listEvents('acme', first ?? ''))?.filter((e) => e.type === 'replayed');
      expect(replayed?.map((e) => [e.actor, e.data])).to.deep.equal([[ACTOR, { destinations: ['dmp'], rebuild: false }]]);
      expect((await store.listEvents('acme', second ?? ''))?.at(-1)).to.deep.include({ actor: ACTOR, data: { destinations: [], rebuild: true } });
    });
  });

  it('verifies the audit chain, then names every broken link once an event was edited (exit 1)', async () => {
    const [a, b] = await withStore(async (store) => [await failedSubmission(store), await failedSubmission(store)]);
    const ok = await cli('audit', 'verify');
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal('Audit chain intact: 2 submission(s), 12 event(s)\n');
    const db = new Database(file);
    try {
      db.exec('DROP TRIGGER submission_events_no_update');
      expect(db.prepare('UPDATE submission_events SET data = ? WHERE submission_id = ? AND seq = 3').run('{"edited":true}', a).changes).to.equal(1);
    } finally {
      db.close();
    }
    const broken = await cli('audit', 'verify');
    expect(broken.code).to.equal(1);
    expect(broken.stdout).to.equal(`SUBMISSION\tSEQ\tREASON\n${a ?? ''}\t3\thash mismatch\n`);
    expect(broken.stderr).to.contain('BROKEN: 1 broken link(s) in 2 submission(s), 12 event(s)');
    const onlyB = await cli('audit', 'verify', '--submission', b ?? '');
    expect(onlyB.code).to.equal(0);
    expect(onlyB.stdout).to.contain('1 submission(s), 6 event(s)');
    expect((await cli('audit', 'verify', '--submission', a ?? '')).code).to.equal(1);
    expect((await cli('audit', 'verify', '--submission', newId('sub'))).code).to.equal(4);
  });

  it('exports every event with its hash as JSON Lines, to stdout or a file', async () => {
    const id = await withStore((store) => failedSubmission(store));
    const out = join(dir, 'audit.jsonl');
    const r = await cli('audit', 'export', '--out', out);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal(`Exported 6 event(s) to ${out}\n`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).to.have.length(6);
    expect(lines.map((l) => l.seq)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(Object.keys(lines[0])).to.deep.equal(['submissionId', 'seq', 'type', 'at', 'actor', 'data', 'hash']);
    expect(lines[0]).to.include({ submissionId: id, type: 'received' });
    for (const l of lines) expect(l.hash).to.match(/^[0-9a-f]{64}$/);
    const stdout = await cli('audit', 'export');
    expect(stdout.stdout.trimEnd().split('\n')).to.have.length(6);
    expect((await cli('audit', 'export', '--out', join(dir, 'missing', 'x.jsonl'))).code).to.equal(2);
  });

  it('checks the log against an earlier export: a cut tail, or a chain recomputed after an edit, is found (exit 1)', async () => {
    const [a, b, c] = await withStore(async (store) => [await failedSubmission(store), await failedSubmission(store), await failedSubmission(store)]);
    const anchor = join(dir, 'anchor.jsonl');
    expect((await cli('audit', 'export', '--out', anchor)).code).to.equal(0);
    // Later events do not matter: the export vouches for what it saw.
    await withStore((store) => store.applyChange({ submissionId: c ?? '', at: new Date(), events: [{ type: 'replayed', at: new Date(), actor: 'cli:test', data: { destinations: ['dmp'], rebuild: false } }] }));
    const intact = await cli('audit', 'verify', '--against', anchor);
    expect(intact.code, intact.stderr).to.equal(0);
    expect(intact.stdout).to.equal('Audit chain intact: 3 submission(s), 19 event(s), 3 checked against the export\n');

    // What the chain alone cannot see: the last event of a cut, and an edit whose later hashes were recomputed.
    const db = new Database(file);
    try {
      db.exec('DROP TRIGGER submission_events_no_delete; DROP TRIGGER submission_events_no_update');
      db.prepare('DELETE FROM submission_events WHERE submission_id = ? AND seq = 6').run(a);
      const events = await withStore(async (store) => (await store.listEvents('acme', b ?? '')) ?? []);
      let previous = GENESIS_HASH;
      for (const e of events) {
        const data = e.seq === 2 ? { forged: true } : e.data;
        const hash = eventHash(previous, { ...e, data });
        db.prepare('UPDATE submission_events SET data = ?, hash = ? WHERE submission_id = ? AND seq = ?').run(JSON.stringify(data), hash, b, e.seq);
        previous = hash;
      }
    } finally {
      db.close();
    }
    expect((await cli('audit', 'verify')).code, 'the chain alone finds nothing').to.equal(0);
    const against = await cli('audit', 'verify', '--against', anchor);
    expect(against.code).to.equal(1);
    expect(against.stdout.split('\n').slice(1, -1).sort()).to.deep.equal([`${a ?? ''}\t6\tmissing since the export`, `${b ?? ''}\t6\tchanged since the export`].sort());
    writeFileSync(join(dir, 'not-an-export.jsonl'), '{"submissionId": 1}\n');
    const bad = await cli('audit', 'verify', '--against', join(dir, 'not-an-export.jsonl'));
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('not-an-export.jsonl:1 is not an event of `audit export`');
  });

  it('shows the pipeline, pauses a kind with a reason and resumes it (exit 4 when not paused)', async () => {
    await withStore((store) => failedSubmission(store));
    const before = await cli('pipeline', 'status');
    expect(before.code, before.stderr).to.equal(0);
    expect(before.stdout).to.match(/^KIND\tSTATE\tCOUNT\tOVERDUE\n/).and.contain('No kind is paused.');
    expect(before.stdout).to.match(/^build\tready\t1\t1$/m);
    const paused = await cli('pipeline', 'pause', 'dmp', '--reason', 'DMP maintenance');
    expect(paused.code, paused.stderr).to.equal(0);
    const status = await cli('pipeline', 'status');
    expect(status.stdout).to.match(new RegExp(`^ {2}dmp {2}since \\S+ {2}by ${ACTOR.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} {2}\\(DMP maintenance\\)$`, 'm'));
    await withStore(async (store) => { expect((await store.listPauses()).map((p) => [p.kind, p.pausedBy, p.reason])).to.deep.equal([['dmp', ACTOR, 'DMP maintenance']]); });
    expect((await cli('pipeline', 'resume', 'dmp')).code).to.equal(0);
    const again = await cli('pipeline', 'resume', 'dmp');
    expect(again.code).to.equal(4);
    expect(again.stderr).to.contain('dmp jobs are not paused');
    expect((await cli('pipeline', 'status')).stdout).to.contain('No kind is paused.');
  });

  it('lists the new commands in its usage', async () => {
    const r = await cli('help');
    expect(r.stdout).to.contain('submissions replay ID --tenant T [--rebuild]').and.contain('audit verify [--submission ID]').and.contain('pipeline pause KIND [--reason R]');
  });
});
