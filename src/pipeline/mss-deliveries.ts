/**
 * The MSSanté side of a submission's record: one delivery per recipient (`mss:<address>`), set
 * to `sent` or `failed` when the message leaves, then to `delivered` or `failed` when its
 * acknowledgement comes back, each change with its event. Only codes and addresses of
 * professionals are recorded: no health data.
 */
import type { Json, Store } from '../store/store.js';
import { mssDestination, type MssSendOutcome, type RecipientAcknowledgement } from '../transports/mss/mss-client.js';

const ACTOR = 'worker:mss';

/** Records what SMTP said of each recipient (and the recipients that had no address). */
export async function recordMssSent(store: Store, submissionId: string, outcome: MssSendOutcome, at: Date): Promise<void> {
  for (const r of outcome.recipients) {
    const detail: Json = { role: r.role, ...(r.code === undefined ? {} : { code: r.code }), ...(r.retryable === undefined ? {} : { retryable: r.retryable }) };
    const status = r.status;
    await store.recordDelivery(
      { submissionId, destination: r.destination, status, reference: status === 'failed' && r.address === undefined ? null : outcome.messageId, detail, updatedAt: at },
      { type: status === 'failed' ? 'delivery-failed' : 'sent', at, actor: ACTOR, data: { destination: r.destination, ...(r.code === undefined ? {} : { code: r.code }) } },
    );
  }
}

/**
 * Records each acknowledgement on the recipient it names, found by the Message-ID it
 * acknowledges. An acknowledgement of a message this store never sent, or of a recipient it was
 * not sent to, is returned as unmatched (the mailbox may hold other mail).
 */
export async function recordMssAcknowledgements(store: Store, acknowledgements: readonly RecipientAcknowledgement[], at: Date): Promise<{ recorded: number; unmatched: number }> {
  let recorded = 0;
  let unmatched = 0;
  for (const ack of acknowledgements) {
    const destination = mssDestination(ack.recipient);
    const delivery = (await store.findDeliveriesByReference(ack.originalMessageId)).find((d) => d.destination === destination);
    // A later "delivered" never undoes a failure, and a delay changes nothing recorded.
    if (delivery === undefined || ack.outcome === 'delayed') {
      unmatched += delivery === undefined ? 1 : 0;
      continue;
    }
    if (delivery.status === 'failed') continue;
    const failed = ack.outcome === 'failed';
    const detail: Json = { ...(typeof delivery.detail === 'object' && delivery.detail !== null && !Array.isArray(delivery.detail) ? delivery.detail : {}), acknowledgement: ack.acknowledgement, ...(ack.code === undefined ? {} : { code: ack.code }) };
    await store.recordDelivery(
      { ...delivery, status: failed ? 'failed' : 'delivered', detail, updatedAt: at },
      { type: failed ? 'delivery-failed' : 'acknowledged', at, actor: ACTOR, data: { destination, acknowledgement: ack.acknowledgement, ...(ack.code === undefined ? {} : { code: ack.code }) } },
    );
    recorded += 1;
  }
  return { recorded, unmatched };
}
