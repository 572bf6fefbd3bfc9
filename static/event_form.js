// The organizer's event form, a little quicker with a script (it works the same without:
// the server fills an empty end with start + 1 hour and warns about past dates after saving).
// - While the end is empty, or still what this script filled in, it follows the start + 1 hour.
// - The start time is required unless the event is all-day.
// - A start date before today gets a warning (not an error) under the date fields, in the
//   page's language: the page gives its words in the warning's data-past attribute.
(function () {
  "use strict";
  var form = document.querySelector("form.event-form");
  if (!form) { return; }
  var field = function (name) { return form.querySelector('[name="' + name + '"]'); };
  var startDate = field("start_date"), startTime = field("start_time");
  var endDate = field("end_date"), endTime = field("end_time"), allDay = field("all_day");
  var warning = document.getElementById("f-start-past");
  if (!startDate || !startTime || !endDate || !endTime) { return; }
  var filled = { date: null, time: null };  // what we put in the end fields last

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function plusHour(dateText, timeText) {
    var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateText), t = /^(\d{2}):(\d{2})$/.exec(timeText);
    if (!d || !t) { return null; }
    // Calendar arithmetic in UTC, so the browser's own DST rules play no part.
    var when = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3], +t[1] + 1, +t[2]));
    return {
      date: when.getUTCFullYear() + "-" + pad(when.getUTCMonth() + 1) + "-" + pad(when.getUTCDate()),
      time: pad(when.getUTCHours()) + ":" + pad(when.getUTCMinutes())
    };
  }

  function followStart() {
    if (allDay && allDay.checked) { return; }
    var ours = (endDate.value === "" || endDate.value === filled.date) &&
               (endTime.value === "" || endTime.value === filled.time);
    if (!ours) { return; }
    var end = plusHour(startDate.value, startTime.value);
    if (!end) { return; }
    endDate.value = filled.date = end.date;
    endTime.value = filled.time = end.time;
  }

  function warnPast() {
    if (!warning) { return; }
    var now = new Date();
    var today = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    var past = /^\d{4}-\d{2}-\d{2}$/.test(startDate.value) && startDate.value < today;
    warning.textContent = past ? warning.getAttribute("data-past") : "";
  }

  function syncRequired() {
    var needed = !(allDay && allDay.checked);
    startTime.required = needed;
    var star = form.querySelector('label[for="f-start_time"] .req');
    if (star) { star.hidden = !needed; }
  }

  startDate.addEventListener("change", function () { followStart(); warnPast(); });
  startTime.addEventListener("change", followStart);
  if (allDay) { allDay.addEventListener("change", syncRequired); }
  warnPast();
})();
