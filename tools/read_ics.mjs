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
