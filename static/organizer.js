// Door check-in without a page reload. The forms work without this script (POST + redirect);
// with it, a tap sends the same form with fetch and updates the row and the counts in place
// ("2 of 3 here" for a party that arrived in part).
(function () {
  "use strict";

  // Swap in the row as the server renders it now, and keep keyboard focus on its check-in
  // controls (the button that was pressed is gone with the old row).
  function setRow(form, data) {
    var row = form.closest("tr");
    if (!row || !data.row_html) { return; }
    var holder = document.createElement("tbody");
    holder.innerHTML = data.row_html.trim();
    var fresh = holder.querySelector("tr");
    if (!fresh) { return; }
    row.parentNode.replaceChild(fresh, row);
    var target = fresh.querySelector(data.here ? ".undo-button" : ".checkin-button");
    if (target) { target.focus(); }
  }

  function setCounts(counts) {
    Object.keys(counts).forEach(function (key) {
      document.querySelectorAll('[data-count="' + key + '"]').forEach(function (el) {
        el.textContent = String(counts[key]);
      });
    });
  }

  function announce(text) {
    var box = document.getElementById("checkin-status");
    if (!box) {
      box = document.createElement("div");
      box.id = "checkin-status";
      box.className = "banner banner-ok";
      box.setAttribute("role", "status");
      var main = document.getElementById("main");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-checkin") || !window.fetch) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok && data && data.ok) {
          setRow(form, data);
          setCounts(data.counts);
          announce(data.message);
        } else if (data && data.error) {
          announce(data.error);
        } else {
          form.submit();  // e.g. signed out: let the normal flow handle it
        }
      });
    }).catch(function () {
      form.submit();
    }).then(function () {
      button.disabled = false;
    });
  });
})();
