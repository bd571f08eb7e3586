/**
 * `passerelle audit verify|export`: the hash-chained event log, checked link by link or written
 * out as JSON Lines. Events hold codes, ids and actors, never health data, so the export is only
 * what the store holds. Both read every tenant's events a page at a time: the log never sits in
 * memory whole.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
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
  const { values, positionals } = parseArgs({ args: rest, options: { ...STORE_OPTIONS, submission: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new PasserelleError('usage', `audit ${action ?? ''} takes no arguments (got ${positionals.join(' ')})`);
  if (action === 'verify') {
    if (values.out !== undefined) throw new PasserelleError('usage', '--out is an option of audit export');
    const only = values.submission;
    if (only !== undefined && !isId(only, 'sub')) throw new PasserelleError('usage', '--submission must be a submission id (sub_…)');
    return withStore(io, values, (store) => verify(store, io, only));
  }
  if (action === 'export') {
    if (values.submission !== undefined) throw new PasserelleError('usage', '--submission is an option of audit verify');
    const out = values.out;
    return withStore(io, values, (store) => exportEvents(store, io, out));
  }
  throw new PasserelleError('usage', 'audit needs an action: verify or export');
}

async function verify(store: Store, io: CliIo, only: string | undefined): Promise<number> {
  const verifier = new AuditChainVerifier();
  for await (const event of auditEvents(store, only)) verifier.add(event);
  const { broken, ...total } = verifier.report();
  if (only !== undefined && total.events === 0) throw notFound(`no events for submission ${only}`);
  const summary = `${String(total.submissions)} submission(s), ${String(total.events)} event(s)${total.legacy > 0 ? ` (${String(total.legacy)} written before the chain, not chained)` : ''}`;
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
