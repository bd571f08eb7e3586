/**
 * Narrowing of enumerated columns read back from a database. The schema keeps them as plain text
 * (new statuses and event types must not need a table rebuild in SQLite), so a value this build
 * does not know means the database was written by a newer or a broken writer: fail loudly.
 */
import {
  SUBMISSION_EVENT_TYPES,
  isRole,
  isSubmissionStatus,
  type Role,
  type SubmissionEventType,
  type SubmissionStatus,
} from '../domain/submission.js';

export function toSubmissionStatus(value: string): SubmissionStatus {
  if (!isSubmissionStatus(value)) throw new Error(`unknown submission status "${value}" in the store`);
  return value;
}

export function toEventType(value: string): SubmissionEventType {
  const known: readonly string[] = SUBMISSION_EVENT_TYPES;
  if (!known.includes(value)) throw new Error(`unknown submission event type "${value}" in the store`);
  return value as SubmissionEventType;
}

export function toRole(value: string): Role {
  if (!isRole(value)) throw new Error(`unknown API key role "${value}" in the store`);
  return value;
}
