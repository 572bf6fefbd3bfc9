/* Event page share buttons: copy the link, or open the phone's own share sheet. Both stay
   hidden without JavaScript (the link field and plain share links still work). */
(function () {
  "use strict";
  function init() {
    var status = document.querySelector(".share-status");
    function say(text) { if (status) status.textContent = text; }
    var copy = document.querySelector("[data-copy-target]");
    if (copy && navigator.clipboard) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        var field = document.getElementById(copy.getAttribute("data-copy-target"));
        navigator.clipboard.writeText(field.value).then(
          function () { say("Link copied."); },
          function () { field.select(); say("Press Ctrl+C (or Cmd+C) to copy the selected link."); }
        );
      });
    }
    var share = document.querySelector("[data-share-url]");
    if (share && navigator.share) {
      share.hidden = false;
      share.addEventListener("click", function () {
        navigator.share({
          title: share.getAttribute("data-share-title"),
          text: share.getAttribute("data-share-text"),
          url: share.getAttribute("data-share-url")
        }).catch(function () { /* closed by the visitor */ });
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
