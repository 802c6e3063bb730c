/* Switching the language reloads the page in the other language: what the official has typed into the page's
   forms is kept in this tab's sessionStorage when they press the switch, and put back once the page is shown
   again (then forgotten). Files and passwords are never kept; the CSRF token is the new page's own. */
(function () {
  "use strict";
  var KEY = "duikou:forms:" + window.location.pathname;
  var SKIPPED = { file: 1, password: 1, hidden: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function forms() {
    return Array.prototype.slice.call(document.querySelectorAll("main form"));
  }

  function kept(el) {
    return el.name && !SKIPPED[el.type] && el.tagName !== "BUTTON" && el.tagName !== "FIELDSET";
  }

  function collect() {
    var out = [];
    forms().forEach(function (form, index) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!kept(el)) return;
        if (el.type === "checkbox" || el.type === "radio") {
          out.push({ f: index, n: el.name, v: el.value, c: el.checked });
        } else if (el.tagName === "SELECT" && el.multiple) {
          out.push({ f: index, n: el.name, m: Array.prototype.map.call(el.selectedOptions, function (o) { return o.value; }) });
        } else {
          out.push({ f: index, n: el.name, v: el.value });
        }
      });
    });
    return out;
  }

  function restore(entries) {
    var all = forms();
    entries.forEach(function (entry) {
      var form = all[entry.f];
      if (!form) return;
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!kept(el) || el.name !== entry.n) return;
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === entry.v) el.checked = entry.c;
        } else if (entry.m) {
          Array.prototype.forEach.call(el.options, function (o) { o.selected = entry.m.indexOf(o.value) >= 0; });
        } else {
          el.value = entry.v;
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var switcher = document.getElementById("language-form");
    if (switcher) {
      switcher.addEventListener("submit", function () {
        try {
          window.sessionStorage.setItem(KEY, JSON.stringify(collect()));
        } catch (e) { /* storage full or off: the switch still works, the fields are lost as before */ }
      });
    }
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(KEY);
      window.sessionStorage.removeItem(KEY);
    } catch (e) { return; }
    if (raw) {
      try { restore(JSON.parse(raw)); } catch (e) { /* an old or damaged entry: ignore it */ }
    }
  });
})();
