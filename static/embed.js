/* events_app embed loader: replaces each <div data-events-embed="QUERY"> on the page with an
   iframe of /embed/upcoming?QUERY from the site this script came from, and keeps the iframe
   as tall as its content (the frame posts its height). No dependencies, no cookies. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;
  var frames = [];

  function mount(el) {
    var query = el.getAttribute("data-events-embed") || "";
    var src = origin + "/embed/upcoming" + (query ? "?" + query : "");
    var iframe = el.querySelector("iframe[data-events-frame]");
    if (!iframe) {
      iframe = document.createElement("iframe");
      iframe.setAttribute("data-events-frame", "");
      // Until the box says its own title (in its language, see the message below), a name
      // screen readers can announce; snippets made by the builder carry a translated one.
      iframe.title = el.getAttribute("data-title") || "Upcoming events";
      if (!el.getAttribute("data-title")) iframe.setAttribute("data-events-untitled", "");
      iframe.style.width = "100%";
      iframe.style.minWidth = "280px";
      iframe.style.border = "0";
      iframe.style.display = "block";
      iframe.style.height = "420px";
      el.appendChild(iframe);
      frames.push(iframe);
    }
    if (iframe.getAttribute("src") !== src) iframe.src = src;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "events-app:embed-height") return;
    var height = Number(data.height);
    if (!(height > 0 && height < 20000)) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow !== event.source) continue;
      frames[i].style.height = height + "px";
      if (frames[i].hasAttribute("data-events-untitled") && typeof data.title === "string" &&
          data.title) frames[i].title = data.title.slice(0, 200);
    }
  });

  window.eventsEmbed = { mount: mount };
  var targets = document.querySelectorAll("[data-events-embed]");
  for (var i = 0; i < targets.length; i++) mount(targets[i]);
})();
