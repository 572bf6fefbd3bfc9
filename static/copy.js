// "Copy link" buttons next to read-only feed addresses (templates/events/_feed_buttons.html).
// The buttons are hidden in the HTML and shown here, so a page without JavaScript (or without
// the clipboard API) never shows a button that does nothing; the field can always be copied.
// What it says comes from the status element's data-copied / data-copy-failed, which the page
// writes in its own language (no text lives here).
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy");
    var field = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = status.getAttribute("data-copied");
      }, function () {
        field.select();
        if (status) status.textContent = status.getAttribute("data-copy-failed");
      });
    });
  });
})();
