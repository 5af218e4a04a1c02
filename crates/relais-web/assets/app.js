// relais: the only script besides htmx. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header (forms also carry it as a field).
  document.addEventListener("htmx:configRequest", function (e) {
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });
  // Close the workspace switcher with Escape, for keyboard users.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.switcher[open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });
})();
// Calendar: drag a scheduled post to another day; it keeps its time. The server checks
// everything (permissions, DST, past dates) and the page reloads with the result.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("dragstart", function (e) {
    var chip = e.target.closest && e.target.closest("[data-move]");
    if (!chip) return;
    e.dataTransfer.setData("text/plain", chip.getAttribute("data-move") + "|" + chip.getAttribute("data-version"));
  });
  document.addEventListener("dragover", function (e) {
    if (e.target.closest && e.target.closest("td[data-date]")) e.preventDefault();
  });
  document.addEventListener("drop", function (e) {
    var cell = e.target.closest && e.target.closest("td[data-date]");
    var data = e.dataTransfer.getData("text/plain");
    if (!cell || !data) return;
    e.preventDefault();
    var parts = data.split("|");
    var body = "date=" + encodeURIComponent(cell.getAttribute("data-date")) + "&version=" + encodeURIComponent(parts[1]);
    fetch(parts[0], {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": meta ? meta.getAttribute("content") : "" },
      body: body
    }).then(function (r) {
      if (r.ok) { window.location.reload(); return; }
      return r.text().then(function (msg) {
        var el = document.getElementById("cal-error");
        if (el) { el.textContent = msg; el.hidden = false; }
      });
    });
  });
})();
// Some fragments answer an error with a message to show in place (an autosave conflict, a
// refused upload): let htmx swap those instead of dropping them.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (e) {
    var s = e.detail.xhr.status;
    var t = e.detail.target;
    if ((s === 409 || s === 413 || s === 422) && t && t.hasAttribute("data-swap-errors")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
})();
