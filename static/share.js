/* Event page share buttons: copy the link, or open the phone's own share sheet. Both stay
   hidden without JavaScript (the link field and plain share links still work). What they say
   is the status element's data-copied / data-copy-failed, in the page's language. */
(function () {
  "use strict";
  function init() {
    var status = document.querySelector(".share-status");
    function say(key) { if (status) status.textContent = status.getAttribute(key); }
    var copy = document.querySelector("[data-copy-target]");
    if (copy && navigator.clipboard) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        var field = document.getElementById(copy.getAttribute("data-copy-target"));
        navigator.clipboard.writeText(field.value).then(
          function () { say("data-copied"); },
          function () { field.select(); say("data-copy-failed"); }
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
