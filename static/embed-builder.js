/* /embed: when a choice changes, update the preview and both snippets in place (the form
   still works without this script: "Update preview" reloads the page with the choices). */
(function () {
  "use strict";
  function init() {
    var form = document.querySelector("form.embed-builder");
    var preview = document.getElementById("embed-preview");
    if (!form || !preview) return;
    function update() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (value && !(key === "theme" && value === "light")) params.append(key, value);
      });
      var qs = params.toString();
      preview.src = preview.src.split("?")[0] + "?" + qs;
      var snippets = document.querySelectorAll("textarea.embed-snippet");
      for (var i = 0; i < snippets.length; i++) {
        var tpl = snippets[i].getAttribute("data-template");
        snippets[i].value = tpl.split("__QS__").join(qs.replace(/&/g, "&amp;"));
      }
    }
    form.addEventListener("change", update);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
