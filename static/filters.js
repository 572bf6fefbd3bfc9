// The filter panel (templates/events/_filters.html). Without JavaScript it is a <details>
// folded behind its "Filter" button; on screens wide enough to show events and filters
// together this opens it on the list (data-open-wide), and on submit it leaves blank fields out, so the URL is the
// canonical one at once (the server would otherwise redirect to it).
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 48rem)");
  document.querySelectorAll("details[data-filter-panel]").forEach(function (panel) {
    if (wide.matches && panel.hasAttribute("data-open-wide")) panel.open = true;
    var form = panel.querySelector("form");
    if (!form) return;
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (field.name && field.value === "" && field.type !== "checkbox") field.disabled = true;
      });
    });
  });
  // Back to this page from the browser's cache: the fields left out are usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("details[data-filter-panel] [disabled]").forEach(function (field) {
      field.disabled = false;
    });
  });
})();
