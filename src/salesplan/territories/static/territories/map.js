// The territory map: US state outlines (us-atlas, already in the Albers USA layout with
// Alaska and Hawaii as insets), each territory's area shaded as the grid cells where its
// accounts lie, the accounts as dots on top; zoom with the wheel or the buttons, pan by
// dragging. The server renders a <div class="territory-map" data-map="…"> holding the
// figures as JSON; the legend and the counts beside it read without scripts.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 975, HEIGHT = 610;  // the viewport states-albers-10m.json is projected into
  var statesPromise = null;
  var maps = 0;  // each map on the page gets its own clip path id

  function states(url) {
    if (!statesPromise) {
      statesPromise = fetch(url).then(function (r) { return r.json(); }).then(function (us) {
        return {
          land: topojson.feature(us, us.objects.states).features,
          borders: topojson.mesh(us, us.objects.states, function (a, b) { return a !== b; }),
          nation: topojson.mesh(us, us.objects.nation),
          shape: topojson.merge(us, us.objects.states.geometries),
        };
      });
    }
    return statesPromise;
  }

  function node(name, attrs, parent) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function cellPath(project, cell) {
    // A cell is [west longitude, south latitude, size in degrees, territory index].
    var w = cell[0], s = cell[1], d = cell[2];
    var corners = [[w, s], [w + d, s], [w + d, s + d], [w, s + d]].map(project);
    if (corners.some(function (c) { return !c; })) return null;
    return "M" + corners.map(function (c) { return c[0].toFixed(1) + "," + c[1].toFixed(1); })
      .join("L") + "Z";
  }

  function draw(el) {
    if (el.dataset.drawn || typeof d3 === "undefined" || typeof topojson === "undefined") return;
    el.dataset.drawn = "1";
    var data = JSON.parse(el.dataset.map);
    var project = d3.geoAlbersUsa().scale(1300).translate([WIDTH / 2, HEIGHT / 2]);
    var outline = d3.geoPath();  // the atlas is already projected
    states(el.dataset.atlas).then(function (us) {
      var svg = node("svg", {viewBox: "0 0 " + WIDTH + " " + HEIGHT, class: "map-canvas",
        role: "img", "aria-label": el.dataset.label});
      var world = node("g", {}, svg);
      var land = node("g", {class: "map-land"}, world);
      us.land.forEach(function (f) {
        var p = node("path", {d: outline(f)}, land);
        node("title", {}, p).textContent = f.properties.name;
      });
      // Areas end at the coast: cells are clipped to the country's outline.
      var clipId = "map-clip-" + (++maps);
      var clip = node("clipPath", {id: clipId}, node("defs", {}, svg));
      node("path", {d: outline(us.shape)}, clip);
      var areas = node("g", {class: "map-areas", "clip-path": "url(#" + clipId + ")"}, world);
      data.cells.forEach(function (cell) {
        var d = cellPath(project, cell);
        if (!d) return;
        var t = data.territories[cell[3]];
        var p = node("path", {d: d, fill: t.colour}, areas);
        node("title", {}, p).textContent = t.name;
      });
      node("path", {d: outline(us.borders), class: "map-borders"}, world);
      node("path", {d: outline(us.nation), class: "map-nation"}, world);
      var dots = node("g", {class: "map-dots"}, world);
      var circles = [];
      data.points.forEach(function (pt) {
        var xy = project([pt[0], pt[1]]);
        if (!xy) return;
        circles.push(node("circle", {cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: 1.8,
          fill: data.territories[pt[2]].colour}, dots));
      });
      el.replaceChildren(svg, controls());
      zoomable(svg, world, circles, el);
    });
  }

  function controls() {
    var bar = document.createElement("div");
    bar.className = "map-controls";
    [["+", "Zoom in", "in"], ["−", "Zoom out", "out"], ["⟲", "Whole country", "reset"]]
      .forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.textContent = b[0];
        button.setAttribute("aria-label", b[1]);
        button.dataset.zoom = b[2];
        bar.appendChild(button);
      });
    return bar;
  }

  function zoomable(svg, world, circles, el) {
    var k = 1, x = 0, y = 0;
    function apply() {
      world.setAttribute("transform", "translate(" + x + "," + y + ") scale(" + k + ")");
      var r = (1.8 / Math.sqrt(k)).toFixed(2);
      circles.forEach(function (c) { c.setAttribute("r", r); });
    }
    function zoomAt(factor, cx, cy) {
      var next = Math.min(24, Math.max(1, k * factor));
      x = cx - (cx - x) * next / k;
      y = cy - (cy - y) * next / k;
      k = next;
      if (k === 1) { x = 0; y = 0; }
      apply();
    }
    function toViewBox(evt) {
      var box = svg.getBoundingClientRect();
      return [(evt.clientX - box.left) * WIDTH / box.width, (evt.clientY - box.top) * HEIGHT / box.height];
    }
    svg.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      var at = toViewBox(evt);
      zoomAt(evt.deltaY < 0 ? 1.25 : 0.8, at[0], at[1]);
    }, {passive: false});
    var drag = null;
    svg.addEventListener("pointerdown", function (evt) {
      drag = {at: toViewBox(evt), x: x, y: y};
      svg.setPointerCapture(evt.pointerId);
    });
    svg.addEventListener("pointermove", function (evt) {
      if (!drag || k === 1) return;
      var at = toViewBox(evt);
      x = drag.x + at[0] - drag.at[0];
      y = drag.y + at[1] - drag.at[1];
      apply();
    });
    svg.addEventListener("pointerup", function () { drag = null; });
    el.addEventListener("click", function (evt) {
      var which = evt.target.dataset && evt.target.dataset.zoom;
      if (which === "in") zoomAt(1.5, WIDTH / 2, HEIGHT / 2);
      else if (which === "out") zoomAt(1 / 1.5, WIDTH / 2, HEIGHT / 2);
      else if (which === "reset") { k = 1; x = 0; y = 0; apply(); }
    });
  }

  function drawAll(root) { root.querySelectorAll(".territory-map[data-map]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
