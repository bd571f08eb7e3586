/**
 * `passerelle audit verify|export`: the hash-chained event log, checked link by link or written
 * out as JSON Lines. Events hold codes, ids and actors, never health data, so the export is only
 * what the store holds. Both read every tenant's events a page at a time: the log never sits in
 * memory whole.
 *
 * The chain alone shows an edit made without recomputing the hashes after it; someone with write
 * access to the database could recompute them, or cut a submission's last events. An export kept
 * elsewhere is the anchor against both: `verify --against EXPORT` checks that the last event of
 * each submission in it is still there, with the same hash (which, the chain being intact, vouches
 * for every event before it).
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { isId } from '../../domain/ids.js';
import { notFound, PasserelleError } from '../../domain/errors.js';
import { AuditChainVerifier } from '../../store/audit-chain.js';
import type { Store, SubmissionEvent } from '../../store/store.js';
import type { CliIo } from '../io.js';
import { STORE_OPTIONS, withStore } from '../store-command.js';

const PAGE_SIZE = 1000;

/** Every event in (submissionId, seq) order; only one submission's when `only` is set. */
async function* auditEvents(store: Store, only?: string): AsyncGenerator<SubmissionEvent> {
  // The position just before the submission's first event (seqs start at 1).
  let after: { submissionId: string; seq: number } | undefined = only === undefined ? undefined : { submissionId: only, seq: 0 };
  for (;;) {
    const page = await store.listAuditEvents(after, PAGE_SIZE);
    for (const event of page) {
      if (only !== undefined && event.submissionId !== only) return;
      yield event;
    }
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE_SIZE) return;
    after = { submissionId: last.submissionId, seq: last.seq };
  }
}

export async function runAudit(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { ...STORE_OPTIONS, submission: { type: 'string' }, out: { type: 'string' }, against: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new PasserelleError('usage', `audit ${action ?? ''} takes no arguments (got ${positionals.join(' ')})`);
  if (action === 'verify') {
    if (values.out !== undefined) throw new PasserelleError('usage', '--out is an option of audit export');
    const only = values.submission;
    if (only !== undefined && !isId(only, 'sub')) throw new PasserelleError('usage', '--submission must be a submission id (sub_…)');
    const heads = values.against === undefined ? undefined : await exportedHeads(values.against, only);
    return withStore(io, values, (store) => verify(store, io, only, heads));
  }
  if (action === 'export') {
    if (values.submission !== undefined || values.against !== undefined) throw new PasserelleError('usage', '--submission and --against are options of audit verify');
    const out = values.out;
    return withStore(io, values, (store) => exportEvents(store, io, out));
  }
  throw new PasserelleError('usage', 'audit needs an action: verify or export');
}

/** A submission's last event in an earlier export: where its chain stood then. */
interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** The last event of each submission in an export (`audit export`), or a usage error naming the line. */
async function exportedHeads(path: string, only: string | undefined): Promise<Map<string, Head>> {
  const heads = new Map<string, Head>();
  let lineNumber = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      lineNumber += 1;
      if (line === '') continue;
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        event = undefined;
      }
      const { submissionId, seq, hash } = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
      if (typeof submissionId !== 'string' || !Number.isInteger(seq) || typeof hash !== 'string') throw new PasserelleError('usage', `${path}:${String(lineNumber)} is not an event of \`audit export\` (submissionId, seq, hash)`);
      if (only !== undefined && submissionId !== only) continue;
      const known = heads.get(submissionId);
      if (known === undefined || (seq as number) > known.seq) heads.set(submissionId, { seq: seq as number, hash });
    }
  } catch (error) {
    if (error instanceof PasserelleError) throw error;
    throw new PasserelleError('usage', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return heads;
}

async function verify(store: Store, io: CliIo, only: string | undefined, heads: ReadonlyMap<string, Head> | undefined): Promise<number> {
  const verifier = new AuditChainVerifier();
  const anchored: { submissionId: string; seq: number; reason: string }[] = [];
  const seen = new Set<string>();
  for await (const event of auditEvents(store, only)) {
    verifier.add(event);
    const head = heads?.get(event.submissionId);
    if (head === undefined || head.seq !== event.seq) continue;
    seen.add(event.submissionId);
    if (head.hash !== event.hash) anchored.push({ submissionId: event.submissionId, seq: event.seq, reason: 'changed since the export' });
  }
  for (const [submissionId, head] of heads ?? []) {
    if (!seen.has(submissionId)) anchored.push({ submissionId, seq: head.seq, reason: 'missing since the export' });
  }
  const report = verifier.report();
  const broken = [...report.broken, ...anchored];
  if (only !== undefined && report.events === 0 && anchored.length === 0) throw notFound(`no events for submission ${only}`);
  const summary = `${String(report.submissions)} submission(s), ${String(report.events)} event(s)${report.legacy > 0 ? ` (${String(report.legacy)} written before the chain, not chained)` : ''}${heads === undefined ? '' : `, ${String(heads.size)} checked against the export`}`;
  if (broken.length === 0) {
    io.stdout(`Audit chain intact: ${summary}\n`);
    return 0;
  }
  io.stdout(`${['SUBMISSION', 'SEQ', 'REASON'].join('\t')}\n`);
  for (const b of broken) io.stdout(`${[b.submissionId, String(b.seq), b.reason].join('\t')}\n`);
  io.stderr(`Audit chain BROKEN: ${String(broken.length)} broken link(s) in ${summary}\n`);
  return 1;
}

function openOutput(path: string): number {
  try {
    return openSync(path, 'w', 0o600);
  } catch (error) {
    throw new PasserelleError('usage', `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function exportEvents(store: Store, io: CliIo, out: string | undefined): Promise<number> {
  // Written as it is read: an export of millions of events never sits in memory.
  const fd = out === undefined ? undefined : openOutput(out);
  let count = 0;
  try {
    for await (const e of auditEvents(store)) {
      const line = `${JSON.stringify({ submissionId: e.submissionId, seq: e.seq, type: e.type, at: e.at.toISOString(), actor: e.actor, data: e.data, hash: e.hash })}\n`;
      if (fd === undefined) io.stdout(line);
      else writeSync(fd, line);
      count += 1;
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  io.stderr(`Exported ${String(count)} event(s)${out === undefined ? '' : ` to ${out}`}\n`);
  return 0;
}
