/** The JSON shapes of submissions and events returned by the API (no health data). */
import type { SubmissionEvent, SubmissionSummary } from '../../store/store.js';

export function submissionView(s: SubmissionSummary): Record<string, unknown> {
  return {
    id: s.id,
    status: s.status,
    actType: s.actType,
    requestId: s.requestId,
    idempotencyKey: s.idempotencyKey,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    links: { self: `/v1/submissions/${s.id}`, events: `/v1/submissions/${s.id}/events`, timeline: `/v1/submissions/${s.id}/timeline`, receipts: `/v1/submissions/${s.id}/receipts` },
  };
}

export function eventView(e: SubmissionEvent): Record<string, unknown> {
  return { seq: e.seq, type: e.type, at: e.at.toISOString(), actor: e.actor, data: e.data };
}
