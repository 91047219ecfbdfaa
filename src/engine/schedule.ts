// Change windows: steps advance only inside one. A window is wall-clock time in the schedule's
// IANA zone, so it follows DST (09:00 Berlin is 08:00 UTC in winter and 07:00 in summer).
// A window whose end is before its start crosses midnight and belongs to the day it starts on.
import { WEEKDAYS, type ChangeWindow, type Schedule } from '../plan/schema';

type Weekday = (typeof WEEKDAYS)[number];

export interface LocalTime {
  day: Weekday;
  minutes: number; // since local midnight
}

// Building an Intl.DateTimeFormat costs far more than formatting with one; reconcile runs often.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function localTime(timeZone: string, now: number): LocalTime {
  let day: Weekday = 'Mon';
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(now)) {
    if (part.type === 'weekday') day = part.value as Weekday;
    else if (part.type === 'hour') hour = Number(part.value) % 24;
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minutes: hour * 60 + minute };
}

function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] as Weekday;
}

export function windowContains(window: ChangeWindow, at: LocalTime): boolean {
  const start = clockMinutes(window.start);
  const end = clockMinutes(window.end);
  if (start < end) return window.days.includes(at.day) && at.minutes >= start && at.minutes < end;
  return (window.days.includes(at.day) && at.minutes >= start) || (window.days.includes(previousDay(at.day)) && at.minutes < end);
}

/** True without a schedule: a plan without windows may advance at any time. */
export function inChangeWindow(schedule: Schedule | undefined, now: number): boolean {
  if (schedule === undefined) return true;
  const at = localTime(schedule.timeZone, now);
  return schedule.windows.some((w) => windowContains(w, at));
}

/** Windows open and close on whole minutes in every zone in use today, so polling then is exact. */
export function nextMinuteBoundary(now: number): number {
  return Math.floor(now / 60_000) * 60_000 + 60_000;
}
