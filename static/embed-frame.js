/* Inside the framed box: tell the parent page how tall the content is, so /embed.js can size
   the iframe. Heights are not secret, so any parent may hear them; only /embed.js acts. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "events-app:embed-height", height: height }, "*");
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  report();
})();
