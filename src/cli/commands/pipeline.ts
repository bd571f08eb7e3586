/**
 * `passerelle pipeline status|pause|resume`: jobs per kind and state, and operator pauses of a job
 * kind (no gateway process claims it until it is resumed), straight against the store.
 */
import { parseArgs } from 'node:util';
import { notFound, PasserelleError } from '../../domain/errors.js';
import { isJobKind, JOB_KINDS, type JobKind } from '../../domain/submission.js';
import type { Store } from '../../store/store.js';
import type { CliIo } from '../io.js';
import { cliActor, STORE_OPTIONS, withStore } from '../store-command.js';

export async function runPipeline(args: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { ...STORE_OPTIONS, reason: { type: 'string' } }, allowPositionals: true, strict: true });
  if (action === 'status') {
    if (positionals.length > 0 || values.reason !== undefined) throw new PasserelleError('usage', 'pipeline status takes no arguments');
    return withStore(io, values, (store) => status(store, io));
  }
  if (action !== 'pause' && action !== 'resume') throw new PasserelleError('usage', 'pipeline needs an action: status, pause KIND or resume KIND');
  const [kind, ...extra] = positionals;
  if (kind === undefined || !isJobKind(kind) || extra.length > 0) throw new PasserelleError('usage', `pipeline ${action} takes one job kind: ${JOB_KINDS.join(', ')}`);
  if (action === 'resume' && values.reason !== undefined) throw new PasserelleError('usage', '--reason is an option of pipeline pause');
  const reason = values.reason ?? null;
  return withStore(io, values, (store) => (action === 'pause' ? pause(store, io, kind, reason) : resume(store, io, kind)));
}

async function status(store: Store, io: CliIo): Promise<number> {
  const [jobs, pauses] = await Promise.all([store.countJobs(new Date()), store.listPauses()]);
  io.stdout(`${['KIND', 'STATE', 'COUNT', 'OVERDUE'].join('\t')}\n`);
  for (const j of jobs) io.stdout(`${[j.kind, j.state, String(j.count), String(j.overdue)].join('\t')}\n`);
  io.stdout(pauses.length === 0 ? '\nNo kind is paused.\n' : '\nPaused:\n');
  for (const p of pauses) io.stdout(`  ${p.kind}  since ${p.pausedAt.toISOString()}  by ${p.pausedBy}${p.reason === null ? '' : `  (${p.reason})`}\n`);
  return 0;
}

async function pause(store: Store, io: CliIo, kind: JobKind, reason: string | null): Promise<number> {
  await store.pauseJobs({ kind, pausedAt: new Date(), pausedBy: cliActor(), reason });
  io.stdout(`Paused ${kind} jobs: no gateway process claims them until "passerelle pipeline resume ${kind}"\n`);
  return 0;
}

async function resume(store: Store, io: CliIo, kind: JobKind): Promise<number> {
  if (!(await store.resumeJobs(kind))) throw notFound(`${kind} jobs are not paused`);
  io.stdout(`Resumed ${kind} jobs\n`);
  return 0;
}
