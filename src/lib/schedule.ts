/** When lessons go out: every `daysBetween` days at `sendHour` local time, weekends skipped if set. */
export interface CourseSchedule {
  daysBetween: number
  /** Hour of the subscriber's local day, 0–23. */
  sendHour: number
  skipWeekends: boolean
}

interface LocalDate {
  year: number
  month: number
  day: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall-clock reading of an instant in a time zone. */
export function localTime(at: number, timeZone: string) {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(new Date(at)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  }
}

/** Offset of the zone from UTC at an instant, in milliseconds (east positive). */
function offsetAt(at: number, timeZone: string): number {
  const l = localTime(at, timeZone)
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(at / 1000) * 1000
}

/**
 * The instant a local wall-clock time happens in a zone. Across daylight-saving changes: a time
 * skipped by a spring-forward gap moves later by the gap; a time that happens twice takes the first.
 */
export function zonedTime(date: LocalDate, hour: number, timeZone: string): number {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, hour)
  const before = offsetAt(asUtc - 43_200_000, timeZone)
  const after = offsetAt(asUtc + 43_200_000, timeZone)
  const reads = (t: number) => {
    const l = localTime(t, timeZone)
    return l.day === date.day && l.hour === hour
  }
  const candidates = [asUtc - before, asUtc - after].filter(reads).sort((x, y) => x - y)
  // No candidate: the hour falls in a spring-forward gap; the pre-change offset lands just after it.
  return candidates[0] ?? asUtc - before
}

const addDays = (d: LocalDate, days: number): LocalDate => {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days))
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() }
}

const isWeekend = (d: LocalDate) => {
  const weekday = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()
  return weekday === 0 || weekday === 6
}

/**
 * When the next lesson is due after one sent at `sentAt`: `daysBetween` local days later (then
 * past any weekend, if skipped), at the send hour of the subscriber's own time zone.
 */
export function nextLessonAt(sentAt: number, timeZone: string, s: CourseSchedule): number {
  const today = localTime(sentAt, timeZone)
  let date = addDays(today, s.daysBetween)
  while (s.skipWeekends && isWeekend(date)) date = addDays(date, 1)
  return zonedTime(date, s.sendHour, timeZone)
}

/**
 * A lesson's send time after its subscriber moves from one zone to another: the same local day,
 * at the send hour of the new zone, or the next day that is neither past nor a skipped weekend.
 */
export function movedToZone(dueAt: number, from: string, to: string, s: CourseSchedule, now: number): number {
  let date: LocalDate = localTime(dueAt, from)
  let at = zonedTime(date, s.sendHour, to)
  while (at <= now || (s.skipWeekends && isWeekend(date))) {
    date = addDays(date, 1)
    at = zonedTime(date, s.sendHour, to)
  }
  return at
}

/** When a newsletter goes at local morning: its hour, and whether weekends are skipped. */
export interface MorningSchedule {
  sendHour: number
  skipWeekends: boolean
}

/**
 * The reader's next local morning from `now`: today at the send hour if that has not passed (and
 * today is allowed), else the next allowed day at that hour.
 */
export function nextMorning(now: number, timeZone: string, s: MorningSchedule): number {
  let date: LocalDate = localTime(now, timeZone)
  for (let i = 0; i < 14; i++) {
    const at = zonedTime(date, s.sendHour, timeZone)
    if (at >= now && !(s.skipWeekends && isWeekend(date))) return at
    date = addDays(date, 1)
  }
  return zonedTime(date, s.sendHour, timeZone)
}

/** The local calendar day of an instant, as `YYYY-M-D`, for comparing two instants' days. */
export function localDay(at: number, timeZone: string): string {
  const l = localTime(at, timeZone)
  return `${l.year}-${l.month}-${l.day}`
}

/** The morning after the local day of `at` (a broadcast that yields to a lesson goes then). */
export function morningAfter(at: number, timeZone: string, s: MorningSchedule): number {
  const next = addDays(localTime(at, timeZone), 1)
  return nextMorning(zonedTime(next, 0, timeZone), timeZone, s)
}
