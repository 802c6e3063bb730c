// "Add a row" on a form of repeated rows (a Django formset): the button, a submit that asks the server for one
// more row when scripts are off, instead copies the empty row kept in <template> and counts it in TOTAL_FORMS.
(function () {
  "use strict";
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    var prefix = button.getAttribute("data-add-row");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var template = document.getElementById(prefix + "-empty-row");
    var rows = document.getElementById(prefix + "-rows");
    if (!total || !template || !rows) return;
    button.type = "button";
    button.addEventListener("click", function () {
      var n = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(n)).replace(/__number__/g, String(n + 1));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(n + 1);
      if (max && n + 1 >= parseInt(max.value, 10)) button.hidden = true;
      var added = rows.lastElementChild && rows.lastElementChild.querySelector("textarea, input");
      if (added) added.focus();
    });
  });
})();
