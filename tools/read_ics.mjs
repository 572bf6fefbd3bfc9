// Reads a JSON array of iCalendar texts on stdin and prints, for each, what ical.js (the
// parser of Thunderbird and Nextcloud Calendar) makes of it: calendar properties and, per
// VEVENT, the UTC start and end it computes. Like those apps, it registers the VTIMEZONEs
// the file carries and resolves TZIDs through them, not through a tz database of its own.
import ICAL from "ical.js";

const pad = (n, width) => String(n).padStart(width, "0");

function instant(time) {
  if (time === null) return null;
  const date = (t) => `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}`;
  if (time.isDate) return date(time);  // all-day: the date itself, e.g. 2031-03-09
  // ical.js's own conversion to UTC (not through a JS Date, which maps years 0-99 to 19xx).
  const u = time.convertToZone(ICAL.Timezone.utcTimezone);
  return `${date(u)}T${pad(u.hour, 2)}:${pad(u.minute, 2)}:${pad(u.second, 2)}Z`;
}

// Every occurrence as the apps list them: a VEVENT with an RRULE expanded (EXDATEs left out),
// overrides (same UID, RECURRENCE-ID) related to their master, so each takes its instance's
// place; [uid, start, end, status, summary] in file order. The apps group VEVENTs by UID
// first: left to itself, `new ICAL.Event(vevent)` relates every override in the file to
// every master, whatever its UID (an empty `exceptions` list turns that off).
function occurrences(cal) {
  const vevents = cal.getAllSubcomponents("vevent");
  const masters = new Map();
  for (const v of vevents) {
    if (!v.hasProperty("recurrence-id")) {
      masters.set(v.getFirstPropertyValue("uid"), new ICAL.Event(v, { exceptions: [] }));
    }
  }
  const found = [];
  const row = (item, start, end) => [item.uid, instant(start), instant(end),
    item.component.getFirstPropertyValue("status"), item.summary];
  for (const v of vevents) {
    const uid = v.getFirstPropertyValue("uid");
    if (v.hasProperty("recurrence-id") && masters.has(uid)) {
      masters.get(uid).relateException(v);
    }
  }
  for (const v of vevents) {
    const uid = v.getFirstPropertyValue("uid");
    if (v.hasProperty("recurrence-id")) {
      if (!masters.has(uid)) {
        const alone = new ICAL.Event(v);
        found.push(row(alone, alone.startDate, alone.endDate));
      }
      continue;
    }
    const ev = masters.get(uid);
    if (!ev.isRecurring()) {
      found.push(row(ev, ev.startDate, ev.endDate));
      continue;
    }
    const it = ev.iterator();
    for (let next = it.next(), n = 0; next && n < 5000; next = it.next(), n++) {
      const d = ev.getOccurrenceDetails(next);
      found.push(row(d.item, d.startDate, d.endDate));
    }
  }
  return found;
}

function read(text) {
  const cal = new ICAL.Component(ICAL.parse(text));
  ICAL.TimezoneService.reset();
  for (const vtz of cal.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtz);
  }
  const prop = (name) => {
    const p = cal.getFirstProperty(name);
    return p === null ? null : String(p.getFirstValue());
  };
  return {
    occurrences: occurrences(cal),
    method: prop("method"),
    name: prop("name"),
    x_wr_calname: prop("x-wr-calname"),
    x_wr_caldesc: prop("x-wr-caldesc"),
    events: cal.getAllSubcomponents("vevent").map((vevent) => {
      const ev = new ICAL.Event(vevent);
      return {
        uid: ev.uid,
        summary: ev.summary,
        sequence: ev.sequence,
        status: vevent.getFirstPropertyValue("status"),
        start: instant(ev.startDate),
        end: vevent.hasProperty("dtend") || vevent.hasProperty("duration") ? instant(ev.endDate) : null,
      };
    }),
  };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map(read)));
});
