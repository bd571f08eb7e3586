/**
 * The acknowledgements of sent messages: the application mailbox is read over IMAP every so often,
 * and each MDN or DSN is recorded on the recipient it names, found by the Message-ID it
 * acknowledges: `delivered` (processed, displayed, delivered) or `failed` with its code. Only codes
 * and professionals' addresses are recorded: no health data.
 *
 * Reading is idempotent: an acknowledgement already recorded changes nothing, so the reader may
 * start again from the first message after a restart, and several gateways may read one mailbox.
 */
import type { JobKind } from '../domain/submission.js';
import type { Store } from '../store/store.js';
import { objectOf } from '../store/stored-values.js';
import type { Logger } from '../support/logger.js';
import { mssDestination, type MssClient, type RecipientAcknowledgement } from '../transports/mss/mss-client.js';


const ACTOR = 'worker:mss';

/**
 * Records each acknowledgement on the recipient it names. One of a message this store never sent,
 * or of a recipient it was not sent to, is counted as unmatched (the mailbox may hold other mail).
 */
export async function recordMssAcknowledgements(store: Store, acknowledgements: readonly RecipientAcknowledgement[], at: Date, terminalJobs: readonly JobKind[] = []): Promise<{ recorded: number; unmatched: number }> {
  let recorded = 0;
  let unmatched = 0;
  for (const ack of acknowledgements) {
    const destination = mssDestination(ack.recipient);
    const delivery = (await store.findDeliveriesByReference(ack.originalMessageId)).find((d) => d.destination === destination);
    if (delivery === undefined) {
      unmatched += 1;
      continue;
    }
    // A delay changes nothing recorded; a later "delivered" never undoes a failure; a repeat is a no-op.
    const detail = objectOf(delivery.detail);
    if (ack.outcome === 'delayed' || delivery.status === 'failed' || detail.acknowledgement === ack.acknowledgement) continue;
    const failed = ack.outcome === 'failed';
    await store.applyChange({
      submissionId: delivery.submissionId,
      at,
      deliveries: [{ ...delivery, status: failed ? 'failed' : 'delivered', detail: { ...detail, acknowledgement: ack.acknowledgement, acknowledgedAt: at.toISOString(), ...(ack.code === undefined ? {} : { code: ack.code }), ...(failed ? { error: { code: ack.code ?? ack.acknowledgement, message: `the recipient's acknowledgement says it failed (${ack.acknowledgement})` } } : {}) }, updatedAt: at }],
      events: [{ type: failed ? 'delivery-failed' : 'acknowledged', at, actor: ACTOR, data: { destination, acknowledgement: ack.acknowledgement, ...(ack.code === undefined ? {} : { code: ack.code }) } }],
      deriveStatus: true,
      onTerminal: terminalJobs.map((kind) => ({ kind, runAt: at })),
    });
    recorded += 1;
  }
  return { recorded, unmatched };
}

export interface AcknowledgementReaderOptions {
  readonly store: Store;
  readonly mss: MssClient;
  readonly pollMs: number;
  readonly logger: Logger;
  /** Jobs enqueued when an acknowledgement makes a submission terminal (its webhook, when its tenant has one). */
  readonly terminalJobs?: readonly JobKind[];
  readonly clock?: () => Date;
}

/** Reads the mailbox every `pollMs` until stopped. */
export class AcknowledgementReader {
  #sinceUid = 0;
  #uidValidity: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly options: AcknowledgementReaderOptions) {}

  start(): void {
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#current;
  }

  /** One reading of the mailbox. */
  async readOnce(): Promise<{ recorded: number; unmatched: number }> {
    const read = await this.options.mss.acknowledgements(this.#sinceUid, this.#uidValidity);
    const result = await recordMssAcknowledgements(this.options.store, read.acknowledgements, (this.options.clock ?? (() => new Date()))(), this.options.terminalJobs);
    this.#sinceUid = read.lastUid;
    this.#uidValidity = read.uidValidity;
    return result;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#current = this.readOnce().then(
        (result) => { if (result.recorded > 0) this.options.logger.info(result, 'acknowledgements recorded'); },
        (error: unknown) => { this.options.logger.warn({ err: { message: (error as Error).message } }, 'the application mailbox could not be read; trying again'); },
      ).finally(() => { this.#schedule(); });
    }, this.options.pollMs);
  }
}
