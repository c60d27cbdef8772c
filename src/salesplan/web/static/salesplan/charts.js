// Draws every chart on the page from its declared option. A chart is an element with
// class "chart" whose data-chart attribute holds an ECharts option as JSON (rendered by
// the server with salesplan.ui.charts); the same figures are also in a table beside it,
// so the page reads without scripts. Charts swapped in by htmx are drawn too.
(function () {
  "use strict";
  function draw(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var chart = echarts.init(el);  // canvas: the strict CSP forbids the inline styles SVG output carries
      chart.setOption(JSON.parse(el.dataset.chart));
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();
