/* Inside the framed box: tell the parent page how tall the content is, so /embed.js can size
   the iframe, and the box's title in its own language, for the iframe's accessible name when
   the snippet gave none. Neither is secret, so any parent may hear them; only /embed.js acts. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage(
      { type: "events-app:embed-height", height: height, title: document.title }, "*");
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  report();
})();
