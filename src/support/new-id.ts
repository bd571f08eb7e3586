import { randomBytes } from 'node:crypto';
import { encodeId } from '../domain/ids.js';

/** A fresh time-sortable id such as `sub_01JD…`; see domain/ids.ts. */
export function newId(prefix: string, now: Date = new Date()): string {
  return encodeId(prefix, now.getTime(), randomBytes(10));
}
