// The map's tooltips (templates/atlas/map.html). Without this script each shape keeps its <title>, which the
// browser shows on hover; with it, the same text shows at once beside the pointer, and the table's row of the
// area under the pointer is marked.
(function () {
  "use strict";
  var map = document.getElementById("map");
  var tip = document.getElementById("map-tip");
  if (!map || !tip) return;
  var wrap = map.parentNode;
  map.querySelectorAll("path > title, circle > title").forEach(function (title) {
    var el = title.parentNode;
    var text = title.textContent;
    el.setAttribute("data-tip", text);
    var link = el.closest("a");
    if (link && !link.hasAttribute("aria-label")) link.setAttribute("aria-label", text);
    title.remove();
  });
  var marked = [];
  function mark(area) {
    marked.forEach(function (row) { row.classList.remove("dk-map-hl"); });
    marked = area ? Array.prototype.slice.call(document.querySelectorAll('#map-table tr[data-area="' + area + '"]')) : [];
    marked.forEach(function (row) { row.classList.add("dk-map-hl"); });
  }
  function show(el, x, y) {
    tip.textContent = el.getAttribute("data-tip");
    tip.hidden = false;
    var box = wrap.getBoundingClientRect();
    var left = Math.min(x - box.left + 14, box.width - tip.offsetWidth - 4);
    tip.style.left = Math.max(left, 4) + "px";
    tip.style.top = (y - box.top + 14) + "px";
    var link = el.closest("a");
    mark(link ? link.getAttribute("data-area") : null);
  }
  function hide() { tip.hidden = true; mark(null); }
  map.addEventListener("mousemove", function (e) {
    var el = e.target.closest("[data-tip]");
    if (el) show(el, e.clientX, e.clientY); else hide();
  });
  map.addEventListener("mouseleave", hide);
  map.addEventListener("focusin", function (e) {
    var el = e.target.querySelector("[data-tip]");
    if (!el) return;
    var r = el.getBoundingClientRect();
    show(el, r.left + r.width / 2, r.top + r.height / 2);
  });
  map.addEventListener("focusout", hide);
})();
