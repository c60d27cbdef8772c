// Draws every chart on the page from its declared option. A chart is an element with
// class "chart" whose data-chart attribute holds an ECharts option as JSON (rendered by
// the server with salesplan.ui.charts); the same figures are also in a table beside it,
// so the page reads without scripts. Charts swapped in by htmx are drawn too.
(function () {
  "use strict";
  // Value axes read 1.2 M, 350 k rather than 1,200,000: the exact figures are in the table.
  function compact(value) {
    var size = Math.abs(value);
    if (size >= 1e9) return +(value / 1e9).toFixed(2) + " bn";
    if (size >= 1e6) return +(value / 1e6).toFixed(2) + " M";
    if (size >= 1e4) return +(value / 1e3).toFixed(1) + " k";
    return value.toLocaleString("en-US");
  }
  function readableAxes(option) {
    [].concat(option.xAxis || [], option.yAxis || []).forEach(function (axis) {
      if (axis.type === "value") {
        axis.axisLabel = Object.assign({formatter: compact}, axis.axisLabel || {});
      }
    });
    if (option.tooltip && !option.tooltip.valueFormatter) {
      option.tooltip.valueFormatter = function (v) {
        return typeof v === "number" ? v.toLocaleString("en-US", {maximumFractionDigits: 2}) : "—";
      };
    }
    return option;
  }
  function draw(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = "1";
      var chart = echarts.init(el);  // canvas: the strict CSP forbids the inline styles SVG output carries
      chart.setOption(readableAxes(JSON.parse(el.dataset.chart)));
      new ResizeObserver(function () { chart.resize(); }).observe(el);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();
