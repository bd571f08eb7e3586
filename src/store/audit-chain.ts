/**
 * The hash chain of the event log. Each event's hash covers the hash of the event before it in its
 * submission, so editing an event breaks its own link and removing one leaves a gap in the seq
 * numbers; `passerelle audit verify` recomputes the chain to find either. The database triggers
 * already refuse updates and deletes: the chain is what still tells, after someone with the
 * database's owner rights went around them.
 *
 * Pure, so both backends (which compute the hash when they append) and the verifier share it.
 */
import { createHash } from 'node:crypto';
import type { SubmissionEventType } from '../domain/submission.js';
import type { Json, NewEvent, SubmissionEvent } from './store.js';

/** The "previous hash" of a submission's first chained event. */
export const GENESIS_HASH = '0'.repeat(64);

/** What events written before the chain existed (migration 4) hold instead of a hash. */
export const LEGACY_HASH = '';

/**
 * JSON with object keys sorted (by UTF-16 code unit, recursively) and no whitespace: the same text
 * whatever order the keys were written or read back in (PostgreSQL's jsonb reorders them).
 */
export function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] ?? null)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The fields of an event that its hash covers. */
export interface HashedEvent {
  readonly submissionId: string;
  readonly seq: number;
  readonly type: SubmissionEventType;
  readonly at: Date;
  readonly actor: string;
  readonly data: Json;
}

/** Hex SHA-256 of `previousHash`, a newline and the canonical JSON of the event. */
export function eventHash(previousHash: string, event: HashedEvent): string {
  const { submissionId, seq, type, at, actor, data } = event;
  const canonical = canonicalJson({ submissionId, seq, type, at: at.toISOString(), actor, data });
  return createHash('sha256').update(`${previousHash}\n${canonical}`, 'utf8').digest('hex');
}

/** An event ready to be inserted: numbered, hashed, its data as the JSON text to store. */
export interface ChainedEvent {
  readonly seq: number;
  readonly type: SubmissionEventType;
  readonly at: Date;
  readonly actor: string;
  readonly dataJson: string;
  readonly hash: string;
}

/**
 * Numbers and hashes events appended after the submission's last one (`undefined` when it has none;
 * a legacy last event restarts the chain from the genesis). The hash covers the data as it will be
 * read back (JSON.stringify's view: undefined members dropped, -0 as 0), not as the caller held it.
 */
export function chainEvents(submissionId: string, last: { readonly seq: number; readonly hash: string } | undefined, events: readonly NewEvent[]): ChainedEvent[] {
  let seq = last?.seq ?? 0;
  let previousHash = last === undefined || last.hash === LEGACY_HASH ? GENESIS_HASH : last.hash;
  return events.map((event) => {
    seq++;
    const dataJson = JSON.stringify(event.data);
    const hash = eventHash(previousHash, { submissionId, seq, type: event.type, at: event.at, actor: event.actor, data: JSON.parse(dataJson) as Json });
    previousHash = hash;
    return { seq, type: event.type, at: event.at, actor: event.actor, dataJson, hash };
  });
}

export type AuditBreakReason =
  /** The event is not the one its hash was computed over: edited (or its hash replaced). */
  | 'hash mismatch'
  /** Events are missing before this seq: removed. */
  | 'seq gap'
  /** The seq repeats or goes back: the events are out of order or duplicated. */
  | 'seq out of order'
  /** An event without a hash after hashed ones: only events older than the chain may lack one. */
  | 'hash missing';

export interface AuditBreak {
  readonly submissionId: string;
  /** The first seq concerned: for a gap, the first missing one. */
  readonly seq: number;
  readonly reason: AuditBreakReason;
}

export interface AuditChainReport {
  readonly submissions: number;
  readonly events: number;
  /** Events written before the chain existed: counted, not verifiable. */
  readonly legacy: number;
  readonly broken: readonly AuditBreak[];
}

/**
 * Verifies events fed in (submissionId, seq) order, one at a time, so that a caller can feed it a
 * page of the store after another without holding the whole log. Each break is reported once and
 * the verification goes on from the stored hash, so one edit does not flag every later event.
 */
export class AuditChainVerifier {
  #submissions = 0;
  #events = 0;
  #legacy = 0;
  readonly #broken: AuditBreak[] = [];
  #submissionId: string | undefined;
  #expectedSeq = 1;
  #previousHash: string | undefined = GENESIS_HASH;
  #chained = false;

  add(event: SubmissionEvent): void {
    if (event.submissionId !== this.#submissionId) {
      this.#submissions++;
      this.#submissionId = event.submissionId;
      this.#expectedSeq = 1;
      this.#previousHash = GENESIS_HASH;
      this.#chained = false;
    }
    this.#events++;
    // Undefined when the previous event is not known (a gap): this link cannot be checked, the next ones can.
    let previousHash = this.#previousHash;
    if (event.seq > this.#expectedSeq) {
      this.#break(event, this.#expectedSeq, 'seq gap');
      previousHash = undefined;
    } else if (event.seq < this.#expectedSeq) {
      this.#break(event, event.seq, 'seq out of order');
      previousHash = undefined;
    }
    this.#expectedSeq = event.seq + 1;
    if (event.hash === LEGACY_HASH) {
      this.#legacy++;
      if (this.#chained) this.#break(event, event.seq, 'hash missing');
      // A legacy event restarts the chain; a blanked hash leaves the next link unknown.
      this.#previousHash = this.#chained ? undefined : GENESIS_HASH;
      return;
    }
    if (previousHash !== undefined && eventHash(previousHash, event) !== event.hash) this.#break(event, event.seq, 'hash mismatch');
    this.#chained = true;
    this.#previousHash = event.hash;
  }

  report(): AuditChainReport {
    return { submissions: this.#submissions, events: this.#events, legacy: this.#legacy, broken: [...this.#broken] };
  }

  #break(event: SubmissionEvent, seq: number, reason: AuditBreakReason): void {
    this.#broken.push({ submissionId: event.submissionId, seq, reason });
  }
}

/** Verifies events given in (submissionId, seq) order. */
export function verifyAuditChain(events: Iterable<SubmissionEvent>): AuditChainReport {
  const verifier = new AuditChainVerifier();
  for (const event of events) verifier.add(event);
  return verifier.report();
}
