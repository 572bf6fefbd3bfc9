// Door check-in without a page reload. The forms work without this script (POST + redirect);
// with it, a tap sends the same form with fetch and updates the row and the counts in place.
(function () {
  "use strict";

  function setRow(form, data) {
    var row = form.closest("tr");
    var here = data.here;
    var name = form.getAttribute("data-name") || "";
    var button = form.querySelector("button");
    form.querySelector('input[name="here"]').value = here ? "0" : "1";
    button.textContent = here ? "Undo check-in" : "Check in";
    button.setAttribute("aria-label", (here ? "Undo check-in for " : "Check in ") + name);
    button.classList.toggle("secondary", here);
    if (row) {
      row.classList.toggle("is-here", here);
      var cell = row.querySelector(".checked-in-at");
      if (cell) { cell.textContent = data.checked_in_at || ""; }
    }
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
          var name = form.getAttribute("data-name") || "";
          announce(data.here ? name + " is checked in." : "Check-in undone for " + name + ".");
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
