/**
 * Where a submission's document is, read from its events and its deliveries: the deliveries of
 * GET /v1/submissions/{id}, the status timeline (per submission and per destination) and the
 * receipts. Shared by the HTTP API and `passerelle submissions show`. Events and delivery details
 * hold codes, ids and addresses of professionals only, so nothing here is health data.
 */
import { jobKindOfDestination, type DeliveryStatus, type SubmissionEventType } from '../domain/submission.js';
import type { DeliveryRecord, Json, PauseRecord, SubmissionEvent, SubmissionSummary } from '../store/store.js';
import { objectOf } from '../store/stored-values.js';

function stringOf(value: Json | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

export interface ErrorView {
  readonly code: string;
  readonly message: string;
}

/** `{code, message}` of a delivery detail or an event's data, as the pipeline writes them. */
function errorOf(value: Json | undefined): ErrorView | null {
  const error = objectOf(value);
  const code = stringOf(error.code);
  return code === null ? null : { code, message: stringOf(error.message) ?? '' };
}

export interface DeliveryView {
  readonly destination: string;
  readonly status: DeliveryStatus;
  readonly reference: string | null;
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly error: ErrorView | null;
  readonly updatedAt: string;
  /** Why a waiting delivery does not move: an operator paused its destination (since, and why). */
  readonly heldBy?: { readonly pause: { readonly pausedAt: string; readonly reason: string | null } };
}

const WAITING: readonly DeliveryStatus[] = ['pending', 'retrying'];

/** `pauses`: the operators' pauses in force, so that a delivery held by one says so. */
export function deliveryView(d: DeliveryRecord, pauses: readonly PauseRecord[] = []): DeliveryView {
  const detail = objectOf(d.detail);
  const pause = WAITING.includes(d.status) ? pauses.find((p) => p.kind === jobKindOfDestination(d.destination)) : undefined;
  return {
    destination: d.destination,
    status: d.status,
    reference: d.reference,
    attempts: typeof detail.attempts === 'number' ? detail.attempts : 0,
    nextAttemptAt: stringOf(detail.nextAttemptAt),
    error: errorOf(detail.error),
    updatedAt: d.updatedAt.toISOString(),
    ...(pause === undefined ? {} : { heldBy: { pause: { pausedAt: pause.pausedAt.toISOString(), reason: pause.reason } } }),
  };
}

/** What an event means on the timeline; events that move nothing (validated, notified) are left out. */
const TIMELINE_STATUS: Partial<Record<SubmissionEventType, string>> = {
  received: 'received',
  built: 'built',
  'build-failed': 'failed',
  signed: 'signed',
  sent: 'sent',
  skipped: 'skipped',
  retrying: 'retrying',
  acknowledged: 'acknowledged',
  'delivery-failed': 'failed',
  replayed: 'replayed',
};

export interface TimelineEntry {
  readonly at: string;
  /** The event type, or `status` for the submission's derived terminal status (no event of its own). */
  readonly type: string;
  readonly destination?: string;
  readonly status: string;
  readonly nextAttemptAt?: string;
  readonly error?: ErrorView;
  readonly actor: string;
}

export interface Timeline {
  readonly submissionId: string;
  readonly requestId: string;
  readonly status: string;
  readonly entries: readonly TimelineEntry[];
  readonly destinations: Readonly<Record<string, { readonly status: string; readonly entries: readonly TimelineEntry[] }>>;
}

function entryOf(event: SubmissionEvent): TimelineEntry | undefined {
  const status = TIMELINE_STATUS[event.type];
  if (status === undefined) return undefined;
  const data = objectOf(event.data);
  const destination = stringOf(data.destination);
  const nextAttemptAt = stringOf(data.nextAttemptAt);
  // build-failed data carry {code, detail}; delivery events an `error: {code, message}`.
  const error = event.type === 'build-failed' ? errorOf({ code: data.code ?? null, message: data.detail ?? null }) : errorOf(data.error);
  return {
    at: event.at.toISOString(),
    type: event.type,
    ...(destination === null ? {} : { destination }),
    status,
    ...(nextAttemptAt === null ? {} : { nextAttemptAt }),
    ...(error === null ? {} : { error }),
    actor: event.actor,
  };
}

/** Destinations a replay event names (none for a rebuild, which replays the whole submission). */
function replayedDestinations(event: SubmissionEvent): readonly string[] {
  const destinations = objectOf(event.data).destinations;
  return Array.isArray(destinations) ? destinations.filter((d): d is string => typeof d === 'string') : [];
}

export function timelineView(submission: SubmissionSummary, events: readonly SubmissionEvent[], deliveries: readonly DeliveryRecord[]): Timeline {
  const entries: TimelineEntry[] = [];
  const perDestination = new Map<string, TimelineEntry[]>(deliveries.map((d) => [d.destination, []]));
  const add = (destination: string, entry: TimelineEntry): void => {
    const list = perDestination.get(destination) ?? [];
    list.push(entry);
    perDestination.set(destination, list);
  };
  for (const event of events) {
    const entry = entryOf(event);
    if (entry === undefined) continue;
    entries.push(entry);
    if (entry.destination !== undefined) add(entry.destination, entry);
    if (event.type === 'replayed') for (const destination of replayedDestinations(event)) add(destination, entry);
  }
  // "delivered" is derived from the deliveries, not an event: the timeline still ends with it.
  if (submission.status === 'delivered') entries.push({ at: submission.updatedAt.toISOString(), type: 'status', status: 'delivered', actor: 'passerelle' });
  const statusOf = (destination: string, list: readonly TimelineEntry[]): string => deliveries.find((d) => d.destination === destination)?.status ?? list.at(-1)?.status ?? 'pending';
  return {
    submissionId: submission.id,
    requestId: submission.requestId,
    status: submission.status,
    entries,
    destinations: Object.fromEntries([...perDestination].map(([destination, list]) => [destination, { status: statusOf(destination, list), entries: list }])),
  };
}

/** Receipts exist once a destination took the document. */
const RECEIPTED: readonly DeliveryStatus[] = ['sent', 'delivered'];

/**
 * Per destination, what the partner gave back: the DMP's ids of the registered document, the
 * MSSanté Message-ID and acknowledgement. Destinations without one are listed with their status.
 */
export function receiptView(delivery: DeliveryRecord, events: readonly SubmissionEvent[]): Record<string, Json> {
  const base = { destination: delivery.destination, status: delivery.status };
  if (!RECEIPTED.includes(delivery.status)) return base;
  const detail = objectOf(delivery.detail);
  if (delivery.destination === 'dmp') {
    const registered = events.filter((e) => e.type === 'sent' && objectOf(e.data).destination === 'dmp').at(-1);
    return {
      ...base,
      uniqueId: stringOf(detail.uniqueId) ?? delivery.reference,
      entryUUID: stringOf(detail.entryUUID),
      submissionSetUniqueId: stringOf(detail.submissionSetUniqueId),
      registeredAt: (registered?.at ?? delivery.updatedAt).toISOString(),
    };
  }
  return { ...base, messageId: delivery.reference, acknowledgement: stringOf(detail.acknowledgement), acknowledgedAt: stringOf(detail.acknowledgedAt) };
}

/** One line a timeline entry, for the CLI. */
export function timelineLine(entry: TimelineEntry): string {
  return [
    entry.at,
    entry.status.padEnd(12),
    entry.destination ?? '-',
    entry.actor,
    ...(entry.nextAttemptAt === undefined ? [] : [`next attempt ${entry.nextAttemptAt}`]),
    ...(entry.error === undefined ? [] : [`${entry.error.code}: ${entry.error.message}`]),
  ].join('  ');
}
