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
  signed: ['sending', 'failed'],
  sending: ['retrying', 'delivered', 'failed'],
  retrying: ['sending', 'failed'],
  delivered: [],
  // Replay (support staff) is the only way out of `failed`.
  failed: ['retrying'],
};

export function canTransition(from: SubmissionStatus, to: SubmissionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isSubmissionStatus(value: string): value is SubmissionStatus {
  return (SUBMISSION_STATUSES as readonly string[]).includes(value);
}

/** Event types of the append-only log; later pipeline steps add theirs here. */
export const SUBMISSION_EVENT_TYPES = ['received', 'validated', 'built', 'build-failed', 'sent', 'acknowledged', 'delivery-failed'] as const;
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
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export function isDeliveryStatus(value: string): value is DeliveryStatus {
  return (DELIVERY_STATUSES as readonly string[]).includes(value);
}

/** API roles: submitters post reports, support staff read and replay, admins manage keys. */
export const ROLES = ['submitter', 'support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
