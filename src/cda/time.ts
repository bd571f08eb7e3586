/**
 * HL7 TS values from the act report's dates. A date-time keeps the offset it was given with (the
 * act happened at that local time); the document's own times are written in the configured time
 * zone (Europe/Paris by default), as French producers do.
 */
import type { Timestamp } from './model.js';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** `2026-11-19T09:00:00+01:00` → `20261119090000+0100`; `Z` becomes `+0000`. */
export function timestampOf(dateTime: string): Timestamp {
  const m = DATE_TIME.exec(dateTime);
  if (m === null) throw new RangeError(`not an RFC 3339 date-time with an offset: ${dateTime}`);
  const [, y, mo, d, h, mi, s, offset] = m as unknown as [string, string, string, string, string, string, string, string];
  return `${y}${mo}${d}${h}${mi}${s}${offset === 'Z' ? '+0000' : offset.replace(':', '')}`;
}

/** `1997-02-26` → `19970226`. */
export function dateOf(date: string): Timestamp {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return date.replaceAll('-', '');
}

/** An instant as an RFC 3339 date-time in a time zone, with that zone's offset at that instant. */
export function dateTimeIn(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset',
  }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  // longOffset gives "GMT+01:00", or "GMT" at offset zero.
  const offset = part('timeZoneName').replace('GMT', '') || '+00:00';
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}${offset}`;
}
