/**
 * Keyset pagination shared by both stores: pages are ordered by id (time-sortable, see
 * domain/ids.ts) and the cursor is the last id of the previous page, so concurrent inserts never
 * shift a page the way OFFSET would.
 */
import { isId } from '../domain/ids.js';
import type { SubmissionPage, SubmissionSummary } from './store.js';

export const MAX_PAGE_LIMIT = 200;

export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** The id that the next page starts after. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  // Buffer decoding silently skips characters outside the alphabet, so only a cursor that
  // re-encodes to itself is one this module produced.
  if (encodeCursor(id) !== cursor || !isId(id)) throw new RangeError('invalid cursor');
  return id;
}

export function assertPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new RangeError(`invalid limit ${limit}: expected an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
}

/** Stores fetch `limit + 1` rows: the extra row only tells that another page follows. */
export function toPage(rows: readonly SubmissionSummary[], limit: number): SubmissionPage {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.id) } : { items };
}
