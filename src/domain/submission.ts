/**
 * The submission: one act report accepted by the gateway, and the state machine it moves through.
 *
 * The status is always derived by applying a transition from this table; code elsewhere never
 * writes a status it did not get from `transition()`, so an impossible history cannot be stored.
 */

export const SUBMISSION_STATUSES = [
  'received', // validated and committed; waiting for the pipeline
  'built', // CDA document built and checked
  'signed', // document signed
  'sending', // being delivered to one or more destinations
  'retrying', // a destination failed with a retryable error; a new attempt is scheduled
  'delivered', // every destination acknowledged
  'failed', // a destination failed permanently or ran out of attempts
] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

const TRANSITIONS: Readonly<Record<SubmissionStatus, readonly SubmissionStatus[]>> = {
  received: ['built', 'failed'],
  built: ['signed', 'failed'],
  // A submission with no destination at all (no DMP asked for, no recipient) is delivered at once.
  signed: ['sending', 'delivered', 'failed'],
  sending: ['retrying', 'delivered', 'failed'],
  retrying: ['sending', 'delivered', 'failed'],
  // An acknowledgement can still say that a recipient did not get it (an MDN with an error).
  delivered: ['failed'],
  // Replay (support staff) is the only way out of `failed`: new attempts, or a rebuild.
  failed: ['sending', 'received'],
};

export function canTransition(from: SubmissionStatus, to: SubmissionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isSubmissionStatus(value: string): value is SubmissionStatus {
  return (SUBMISSION_STATUSES as readonly string[]).includes(value);
}

/** Event types of the append-only log. */
export const SUBMISSION_EVENT_TYPES = [
  'received', // accepted by intake
  'validated', // the act report passed intake's rules
  'built', // the CDA was built and checked
  'build-failed', // it could not be: the reasons are in the data
  'signed', // the CDA was signed with the ORG SIGN certificate
  'sent', // a destination took it: the DMP registered it, SMTP accepted a recipient
  'skipped', // a destination was not fed on purpose: the patient objects, has no open DMP…
  'retrying', // an attempt failed with a retryable error: next attempt time and the error
  'acknowledged', // an MDN or DSN said a recipient got it
  'delivery-failed', // a destination refused it for good, or it ran out of attempts
  'replayed', // support staff asked for new attempts (the actor says who)
  'notified', // the tenant's webhook was told of the terminal state
] as const;
export type SubmissionEventType = (typeof SUBMISSION_EVENT_TYPES)[number];

/**
 * Where a submission's document goes, each followed on its own: `dmp`, or `mss:` and a recipient's
 * MSSanté address. The submission's status is derived from them (issue 8).
 */
export const DELIVERY_STATUSES = [
  'pending', // not attempted yet (or a recipient without an address: failed at once instead)
  'sent', // handed over: SMTP accepted the recipient, or the DMP registered the document
  'retrying', // the last attempt failed with a retryable error
  'delivered', // acknowledged: an MDN or a DSN says it arrived (the acknowledgement is in the detail)
  'failed', // refused for good, with the code in the detail
  'skipped', // not fed on purpose (the DMP of a patient who objects or has none): settled, not failed
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(value);
}

/**
 * The submission's status once its document is out, from its destinations: sending while one is
 * pending, retrying while one waits for a new attempt, then failed if any failed, else delivered.
 * A recipient handed over by SMTP (`sent`) counts as delivered: an acknowledgement may never come
 * (the recipient's client may not send MDNs), and its later arrival only refines the record.
 */
export function deriveSubmissionStatus(deliveries: readonly { readonly status: DeliveryStatus }[]): 'sending' | 'retrying' | 'delivered' | 'failed' {
  if (deliveries.some((d) => d.status === 'pending')) return 'sending';
  if (deliveries.some((d) => d.status === 'retrying')) return 'retrying';
  if (deliveries.some((d) => d.status === 'failed')) return 'failed';
  return 'delivered';
}

export const TERMINAL_STATUSES: readonly SubmissionStatus[] = ['delivered', 'failed'];

/**
 * What a job does (the outbox, store.ts): build and sign the document, file it in the DMP, send it
 * by MSSanté to every recipient, tell the tenant's webhook. Retries, circuit breakers and operator
 * pauses apply per kind: the kind is the destination.
 */
export const JOB_KINDS = ['build', 'dmp', 'mss', 'webhook'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** The job that delivers to a destination: `dmp`, or the one `mss` job of every recipient. */
export function jobKindOfDestination(destination: string): 'dmp' | 'mss' {
  return destination === 'dmp' ? 'dmp' : 'mss';
}

export function isJobKind(value: string): value is JobKind {
  return (JOB_KINDS as readonly string[]).includes(value);
}

/** API roles: submitters post reports, support staff read and replay, admins manage keys. */
export const ROLES = ['submitter', 'support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
