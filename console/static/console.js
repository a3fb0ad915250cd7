// Herald console: the little behaviour plain HTML lacks.
(function () {
  "use strict";
  // Show only the notifier fields of the chosen type.
  function showFields() {
    var type = document.getElementById("type");
    if (!type) return;
    document.querySelectorAll("[data-types]").forEach(function (el) {
      var types = el.getAttribute("data-types").split(" ");
      var on = types.indexOf(type.value) >= 0;
      el.hidden = !on;
      el.querySelectorAll("input,select,textarea").forEach(function (i) { i.disabled = !on; });
    });
  }
  // Mark a matrix cell changed before it is saved.
  function watchMatrix() {
    var m = document.getElementById("matrix");
    if (!m) return;
    m.addEventListener("change", function (e) {
      var td = e.target.closest("td,th");
      if (td) td.classList.add("edited");
    });
  }
  // Ask before discarding a draft.
  function confirmDiscard() {
    var b = document.getElementById("discard");
    if (!b) return;
    b.addEventListener("click", function (e) {
      if (!window.confirm(b.getAttribute("data-confirm") || "Discard the draft?")) e.preventDefault();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var type = document.getElementById("type");
    if (type) type.addEventListener("change", showFields);
    showFields();
    watchMatrix();
    confirmDiscard();
  });
})();

// ---- matrix, history and first run (cmatrix) ----
(function () {
  "use strict";
  // A first-run step's button opens the form it points at.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("a[data-opens]").forEach(function (a) {
      a.addEventListener("click", function () {
        var el = document.querySelector(a.getAttribute("data-opens"));
        if (!el) return;
        if (el.tagName === "DETAILS") el.open = true;
        var field = el.querySelector("input:not([type=hidden]),select");
        if (field) field.focus();
      });
    });
  });
})();
