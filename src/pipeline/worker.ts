/**
 * The pipeline's worker: claims jobs from the store's queue and runs each with its step, at most
 * `concurrency` at a time, then applies what the step says in one transaction under the job's
 * lease. Any number of processes may run one on a PostgreSQL store (the claim skips what another
 * holds); on SQLite there is one.
 *
 * Crash safety rests on the store, not on this loop: a job is claimed before it runs and settled
 * after, so a process killed in between leaves a leased job that is claimed again once its lease
 * has expired (the steps make the second attempt harmless). While a job runs, its lease is renewed
 * every third of `leaseMs` (a heartbeat), so the lease can be short without a slow partner call
 * losing its job to another process. stop() lets the jobs in flight finish.
 */
import type { PipelineConfig } from '../config/config.js';
import { JOB_KINDS, type JobKind } from '../domain/submission.js';
import type { ClaimedJob, NewJob, Store } from '../store/store.js';
import type { Logger } from '../support/logger.js';
import { newId } from '../support/new-id.js';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import { errorJson, failureOf, type Failure } from './failure.js';
import { nextAttempt } from './retry-policy.js';
import { objectOf } from '../store/stored-values.js';
import type { FailureOutcome, Step, StepContext, StepResult } from './steps/step.js';

export interface WorkerOptions {
  readonly store: Store;
  readonly steps: readonly Step[];
  readonly config: PipelineConfig;
  readonly logger: Logger;
  /** Jobs to enqueue when a change makes a submission of this tenant terminal (its webhook). */
  readonly onTerminal?: (tenantId: string) => readonly NewJob['kind'][];
  readonly clock?: () => Date;
  readonly random?: () => number;
  /** Called after each job, for metrics. */
  readonly observe?: (kind: JobKind, outcome: 'done' | 'retry' | 'dead' | 'lost', seconds: number) => void;
}

export class Worker {
  /** Who holds the leases of this process: distinct per start, so a restarted process is another owner. */
  readonly owner = newId('wrk');
  readonly #options: WorkerOptions;
  readonly #steps: ReadonlyMap<JobKind, Step>;
  readonly #breakers = new Map<JobKind, CircuitBreaker>();
  /** Jobs running, by id: their leases are renewed until they settle. */
  readonly #inFlight = new Map<number, Promise<void>>();
  #heartbeat: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #woken = false;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.#steps = new Map(options.steps.map((step) => [step.kind, step]));
    for (const kind of this.#steps.keys()) this.#breakers.set(kind, new CircuitBreaker(options.config.breaker));
  }

  start(): void {
    this.#running ??= this.#loop();
    this.#heartbeat ??= setInterval(() => { void this.#renewLeases(); }, Math.max(1, Math.floor(this.#options.config.leaseMs / 3)));
  }

  /** New work was enqueued: look at the queue now rather than at the next poll. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    await Promise.all(this.#inFlight.values());
    clearInterval(this.#heartbeat);
  }

  breakerStates(): ReadonlyMap<JobKind, BreakerState> {
    const now = this.#now().getTime();
    return new Map([...this.#breakers].map(([kind, breaker]) => [kind, breaker.state(now)]));
  }

  /** Claims and runs what is due, once, and waits for it (tests drive the pipeline step by step). Returns the jobs run. */
  async runOnce(): Promise<number> {
    const claimed = await this.#claim(this.#options.config.concurrency);
    await Promise.all(claimed.map((job) => this.#run(job)));
    return claimed.length;
  }

  async #loop(): Promise<void> {
    const { concurrency, pollMs } = this.#options.config;
    while (!this.#stopping) {
      let claimed: readonly ClaimedJob[] = [];
      const free = concurrency - this.#inFlight.size;
      this.#woken = false;
      if (free > 0) {
        try {
          claimed = await this.#claim(free);
        } catch (error) {
          // The store is unreachable: say so without data, and look again after a pause.
          this.#options.logger.error({ err: { message: (error as Error).message } }, 'the pipeline could not claim jobs; trying again');
        }
      }
      for (const job of claimed) {
        const running = this.#run(job).finally(() => {
          this.#inFlight.delete(job.id);
          // A free slot: claim again now.
          this.wake();
        });
        this.#inFlight.set(job.id, running);
      }
      if (!this.#mustLookAgain(claimed.length, free)) await this.#sleep(pollMs);
    }
  }

  /**
   * A full batch may have more behind it, and a wake-up (new work, a free slot) may have come
   * while claiming; otherwise the loop waits for a job to end, a wake-up or the next poll.
   */
  #mustLookAgain(claimed: number, free: number): boolean {
    return this.#stopping || this.#woken || (free > 0 && claimed === free);
  }

  async #renewLeases(): Promise<void> {
    const ids = [...this.#inFlight.keys()];
    if (ids.length === 0) return;
    const now = this.#now();
    try {
      await this.#options.store.renewLeases(this.owner, ids, new Date(now.getTime() + this.#options.config.leaseMs), now);
    } catch (error) {
      // The next beat tries again; a lease that expires meanwhile lets another process take the job.
      this.#options.logger.warn({ err: { message: (error as Error).message } }, 'job leases not renewed');
    }
  }

  async #claim(limit: number): Promise<readonly ClaimedJob[]> {
    const now = this.#now();
    const ms = now.getTime();
    const open: JobKind[] = [];
    const probes: JobKind[] = [];
    for (const kind of JOB_KINDS) {
      const breaker = this.#breakers.get(kind);
      if (breaker === undefined) continue;
      const state = breaker.state(ms);
      if (state === 'closed') open.push(kind);
      else if (breaker.allowance(ms, 1) === 1) probes.push(kind);
    }
    const { store, config } = this.#options;
    const query = { owner: this.owner, now, leaseMs: config.leaseMs };
    const claimed = open.length === 0 ? [] : [...(await store.claimJobs({ ...query, limit, kinds: open }))];
    // A half-open circuit lets one job through: the probe that tells whether the partner is back.
    for (const kind of probes) {
      if (claimed.length >= limit) break;
      const probe = await store.claimJobs({ ...query, limit: 1, kinds: [kind] });
      if (probe.length > 0) this.#breakers.get(kind)?.probing(ms);
      claimed.push(...probe);
    }
    return claimed;
  }

  async #run(job: ClaimedJob): Promise<void> {
    const started = Date.now();
    const now = this.#now();
    const context: StepContext = { now, failed: (failure) => this.#failureOutcome(job, failure, now) };
    const step = this.#steps.get(job.kind);
    let result: StepResult;
    try {
      if (step === undefined) throw new Error(`no step runs ${job.kind} jobs in this gateway`);
      result = await step.run(job, context);
    } catch (error) {
      // A bug or the store failing mid-step: nothing the step did is recorded; the job waits.
      this.#options.logger.error({ jobId: job.id, kind: job.kind, submissionId: job.submissionId, err: { message: (error as Error).message } }, 'pipeline step failed');
      result = { outcome: context.failed(failureOf(error)), change: { events: [] }, health: 'neutral' };
    }
    const breaker = this.#breakers.get(job.kind);
    if (result.health === 'ok') breaker?.success();
    else if (result.health === 'failing') breaker?.failure(Date.now());
    else breaker?.neutral();
    const terminal = this.#options.onTerminal?.(job.tenantId) ?? [];
    let applied = false;
    try {
      applied = await this.#options.store.applyChange({
        submissionId: job.submissionId,
        at: now,
        lease: { jobId: job.id, owner: this.owner, outcome: result.outcome },
        ...result.change,
        ...(terminal.length === 0 ? {} : { onTerminal: terminal.map((kind) => ({ kind, runAt: now })) }),
      });
    } catch (error) {
      this.#options.logger.error({ jobId: job.id, kind: job.kind, submissionId: job.submissionId, err: { message: (error as Error).message } }, 'pipeline result not recorded; the job will run again');
    }
    if (!applied) this.#options.logger.warn({ jobId: job.id, kind: job.kind, submissionId: job.submissionId }, 'job lease lost or submission moved on: result not recorded');
    else this.#options.logger.info({ jobId: job.id, kind: job.kind, submissionId: job.submissionId, attempt: job.attempts, outcome: result.outcome.state, ...(result.outcome.state === 'done' ? {} : { code: (result.outcome.lastError as { code?: string } | null)?.code }) }, 'job settled');
    this.#options.observe?.(job.kind, applied ? result.outcome.state : 'lost', (Date.now() - started) / 1000);
  }

  #failureOutcome(job: ClaimedJob, failure: Failure, now: Date): FailureOutcome {
    const lastError = errorJson(failure);
    if (!failure.retryable) return { state: 'dead', lastError };
    const decision = nextAttempt({ attempts: job.attempts, createdAt: job.createdAt, now, limits: this.#options.config.retry, random: this.#options.random ?? Math.random });
    if (decision.retry) return { state: 'retry', runAt: decision.runAt, lastError };
    return { state: 'dead', lastError: { ...objectOf(lastError), gaveUp: decision.reason } };
  }

  #now(): Date {
    return (this.#options.clock ?? (() => new Date()))();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      function done(): void {
        resolve();
      }
      this.#wake = wake;
    });
  }
}
