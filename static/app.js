(function () {
  // On a narrow screen the main navigation scrolls sideways: bring the
  // current section's tab into view.
  function showActiveTab() {
    var nav = document.querySelector(".mainnav");
    var active = nav && nav.querySelector("a.active");
    if (!active || nav.scrollWidth <= nav.clientWidth) return;
    var right = active.offsetLeft - nav.offsetLeft + active.offsetWidth;
    if (right > nav.clientWidth) nav.scrollLeft = right - nav.clientWidth + 8;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showActiveTab);
  else showActiveTab();
})();

// Payments: progressive enhancements, each independent of the others.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }
  ready(function () {
    // A form marked data-autosubmit goes on by itself (the pay form that
    // takes the customer to the cashier); its button stays as a fallback.
    var auto = document.querySelector("form[data-autosubmit]");
    if (auto) auto.submit();
  });
  // A form marked data-once disables its submit button once sent, so a
  // double click sends it once (the server also refuses a second order).
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!(f instanceof HTMLFormElement)) return;
    var msg = f.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
      return;
    }
    if (f.hasAttribute("data-once")) {
      if (f.dataset.sent) {
        e.preventDefault();
        return;
      }
      f.dataset.sent = "1";
      var b = f.querySelector("button[type=submit]");
      if (b) setTimeout(function () { b.disabled = true; }, 0);
    }
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) return;
    var copy = t.closest("[data-copy]");
    if (copy) {
      var input = document.getElementById(copy.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      var done = function () {
        var old = copy.textContent;
        copy.textContent = "Copied";
        setTimeout(function () { copy.textContent = old; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done);
      else { document.execCommand("copy"); done(); }
      return;
    }
    if (t.closest("[data-print]")) window.print();
  });
})();

(function () {
  // Payouts: the bank picker. Without JavaScript the plain <select> works;
  // with it, a search box (datalist) finds a bank by code or part of its
  // name and selects it.
  function bankPicker(root) {
    var select = root.querySelector("select[name=bank_code]");
    var search = root.querySelector("input[list]");
    var wrap = root.querySelector(".bank-search");
    if (!select || !search || !wrap) return;
    wrap.hidden = false;
    function pick() {
      var q = search.value.trim().toLowerCase();
      if (!q) return;
      var exact = null, partial = [];
      for (var i = 0; i < select.options.length; i++) {
        var o = select.options[i];
        if (!o.value) continue;
        var label = o.text.toLowerCase();
        if (label === q || o.value.toLowerCase() === q) { exact = o; break; }
        if (label.indexOf(q) >= 0) partial.push(o);
      }
      var chosen = exact || (partial.length === 1 ? partial[0] : null);
      if (chosen) select.value = chosen.value;
    }
    search.addEventListener("input", pick);
    search.addEventListener("change", pick);
    select.addEventListener("change", function () {
      var o = select.options[select.selectedIndex];
      if (o && o.value && search.value !== o.text) search.value = o.text;
    });
  }
  function init() {
    var pickers = document.querySelectorAll("[data-testid=bank-picker]");
    for (var i = 0; i < pickers.length; i++) bankPicker(pickers[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
