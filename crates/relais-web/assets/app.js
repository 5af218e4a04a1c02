// relais: the only script besides htmx. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header (forms also carry it as a field).
  document.addEventListener("htmx:configRequest", function (e) {
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });
  // Close the workspace switcher and the calendar's small forms with Escape, for keyboard users.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.switcher[open], details.move[open]").forEach(function (d) {
      d.removeAttribute("open");
      d.querySelector("summary").focus();
    });
  });
})();
// Calendar: drag a scheduled post to another day (month view: it keeps its time) or to a day
// and hour (week and day views: it keeps its minutes). The server checks everything
// (permissions, DST, past dates, a stale page) and the page reloads with the result; the
// keyboard uses the "Move…" form of each post, on the same route.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var slot = function (e) { return e.target.closest && e.target.closest("td[data-date]"); };
  var lit = null;
  var light = function (cell) {
    if (lit && lit !== cell) lit.classList.remove("drop");
    lit = cell;
    if (cell) cell.classList.add("drop");
  };
  document.addEventListener("dragstart", function (e) {
    var chip = e.target.closest && e.target.closest("[data-move]");
    if (!chip) return;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", chip.getAttribute("data-move") + "|" + chip.getAttribute("data-version"));
  });
  document.addEventListener("dragover", function (e) {
    var cell = slot(e);
    if (cell) { e.preventDefault(); light(cell); }
  });
  document.addEventListener("dragend", function () { light(null); });
  document.addEventListener("drop", function (e) {
    var cell = slot(e);
    var data = e.dataTransfer.getData("text/plain");
    light(null);
    if (!cell || !data) return;
    e.preventDefault();
    var parts = data.split("|");
    var body = "date=" + encodeURIComponent(cell.getAttribute("data-date")) + "&version=" + encodeURIComponent(parts[1]);
    if (cell.hasAttribute("data-hour")) body += "&hour=" + encodeURIComponent(cell.getAttribute("data-hour"));
    fetch(parts[0], {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": meta ? meta.getAttribute("content") : "" },
      body: body
    }).then(function (r) {
      if (r.ok) { window.location.reload(); return; }
      return r.text().then(function (msg) {
        var el = document.getElementById("cal-error");
        if (el) { el.textContent = msg; el.hidden = false; el.scrollIntoView({ block: "nearest" }); }
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
