/**
 * Times for people: an instant in a named zone and in UTC, e.g. "2026-12-07 07:48:15 CET (Europe/Berlin) ·
 * 2026-12-07 06:48:15 UTC". Records keep ISO-8601 UTC; only what is shown is converted.
 */

/** "YYYY-MM-DD HH:MM:SS <abbr>" of `iso` in `timeZone`; the ISO text itself when it is not a valid instant. */
export function formatInZone(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).formatToParts(date);
  } catch {
    return formatInZone(iso, 'UTC');
  }
  const p = (t: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${p('timeZoneName')}`;
}

/** The instant in `timeZone` (with the zone's name) and in UTC; UTC alone when no zone is known or it is UTC. */
export function formatLocalAndUtc(iso: string, timeZone?: string | null): string {
  const utc = formatInZone(iso, 'UTC');
  if (Number.isNaN(new Date(iso).getTime())) return iso;
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return utc;
  return `${formatInZone(iso, timeZone)} (${timeZone}) · ${utc}`;
}
