/**
 * Calendar dates as the readers meet them: `YYYY-MM-DD` (Netflix, generic CSV), `01-Jan-1995`
 * (MovieLens u.item), a trailing `(1995)` in a title, and Unix timestamps. Everything becomes
 * days since 1970-01-01 (UTC), the `day` column of a dataset.
 */

/** Returned by `dateAt` for bytes that are not a real `YYYY-MM-DD` date (a Smi, so callers stay fast). */
export const INVALID_DAY = -1_000_000_000;

const SECONDS_PER_DAY = 86400;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), exact integer arithmetic. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Days in month `m` (1..12) of year `y`. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a real calendar date, or INVALID_DAY. */
export function dayOf(y: number, m: number, d: number): number {
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return INVALID_DAY;
  return daysFromCivil(y, m, d);
}

/** Years covered by the precomputed day table used by `dateAt`. */
const TABLE_FIRST_YEAR = 1890;
const TABLE_YEARS = 256;
let dayTable: Int32Array | null = null;

/** Day numbers of every (year, month, day 1..31) in the table's years; INVALID_DAY where no such date exists. */
function buildDayTable(): Int32Array {
  const table = new Int32Array(TABLE_YEARS * 12 * 31);
  for (let y = 0; y < TABLE_YEARS; y++) {
    for (let m = 1; m <= 12; m++) {
      for (let d = 1; d <= 31; d++) table[(y * 12 + m - 1) * 31 + d - 1] = dayOf(TABLE_FIRST_YEAR + y, m, d);
    }
  }
  return table;
}

/**
 * Reads `YYYY-MM-DD` from 10 bytes at `p` (before `end`): days since 1970-01-01, or INVALID_DAY.
 * Called once per Netflix rating, so it reads the digits in place and looks the day up in a
 * precomputed table (calendar arithmetic per row was half the parse time).
 */
export function dateAt(buf: Uint8Array, p: number, end: number): number {
  if (p + 10 > end || buf[p + 4] !== 45 || buf[p + 7] !== 45) return INVALID_DAY;
  const y0 = buf[p]! - 48;
  const y1 = buf[p + 1]! - 48;
  const y2 = buf[p + 2]! - 48;
  const y3 = buf[p + 3]! - 48;
  const m0 = buf[p + 5]! - 48;
  const m1 = buf[p + 6]! - 48;
  const d0 = buf[p + 8]! - 48;
  const d1 = buf[p + 9]! - 48;
  if (
    y0 < 0 || y0 > 9 || y1 < 0 || y1 > 9 || y2 < 0 || y2 > 9 || y3 < 0 || y3 > 9 ||
    m0 < 0 || m0 > 9 || m1 < 0 || m1 > 9 || d0 < 0 || d0 > 9 || d1 < 0 || d1 > 9
  ) {
    return INVALID_DAY;
  }
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3 - TABLE_FIRST_YEAR;
  const m = m0 * 10 + m1;
  const d = d0 * 10 + d1;
  if (y < 0 || y >= TABLE_YEARS || m < 1 || m > 12 || d < 1 || d > 31) return dayOf(y + TABLE_FIRST_YEAR, m, d);
  dayTable ??= buildDayTable();
  return dayTable[(y * 12 + m - 1) * 31 + d - 1]!;
}

/** Parses `YYYY-MM-DD` text: days since 1970-01-01, or null when it is not a real calendar date. */
export function parseIsoDate(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m === null) return null;
  const day = dayOf(Number(m[1]), Number(m[2]), Number(m[3]));
  return day === INVALID_DAY ? null : day;
}

/** The day (since 1970-01-01, UTC) a Unix timestamp in seconds falls on. */
export function dayOfTimestamp(seconds: number): number {
  return Math.floor(seconds / SECONDS_PER_DAY);
}

/** The year of a MovieLens release date such as `01-Jan-1995` or `4-Feb-1971`, or null when it is not one. */
export function yearOfDayMonYear(s: string): number | null {
  const m = /^(\d{1,2})-([A-Z][a-z]{2})-(\d{4})$/.exec(s);
  if (m === null) return null;
  const month = MONTHS.indexOf(m[2]!) + 1;
  const y = Number(m[3]);
  return month > 0 && dayOf(y, month, Number(m[1])) !== INVALID_DAY ? y : null;
}

/** The year in a title's trailing `(YYYY)` — "Toy Story (1995)" → 1995 — or 0 when there is none. */
export function yearFromTitle(title: string): number {
  const m = /\((\d{4})\)\s*$/.exec(title);
  return m === null ? 0 : Number(m[1]);
}
