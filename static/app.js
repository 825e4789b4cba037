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
