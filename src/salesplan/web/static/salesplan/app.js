/* Salesplan's own behaviour. Loaded as a file (the CSP forbids inline scripts). */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  function toast(message, isError) {
    var box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = message;
    box.classList.toggle("error", !!isError);
    box.hidden = false;
    window.clearTimeout(box._timer);
    box._timer = window.setTimeout(function () { box.hidden = true; }, 6000);
  }

  /* Navigation toggle on narrow screens */
  function setupNav() {
    var button = document.querySelector("[data-nav-toggle]");
    var nav = document.getElementById("site-nav");
    if (!button || !nav) { return; }
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("is-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  /* Selects that apply themselves (the board's pipeline and owner) */
  function setupAutosubmit(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
    /* On a phone the filters start folded away unless some are in use. */
    if (window.matchMedia("(max-width: 760px)").matches) {
      root.querySelectorAll("[data-collapse-narrow]:not([data-active])").forEach(function (d) {
        d.removeAttribute("open");
      });
    }
    root.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  /* Record pickers: clicking a suggestion fills the hidden id */
  function setupLookups() {
    document.addEventListener("click", function (event) {
      var option = event.target.closest(".lookup-option");
      if (!option) { return; }
      var box = option.closest("[data-lookup]");
      box.querySelector("[data-lookup-value]").value = option.dataset.lookupId;
      var input = box.querySelector("[data-lookup-input]");
      input.value = option.dataset.lookupLabel;
      box.querySelector(".lookup-results").innerHTML = "";
      input.setAttribute("aria-expanded", "false");
      input.focus();
    });
    document.addEventListener("input", function (event) {
      var input = event.target.closest("[data-lookup-input]");
      if (!input) { return; }
      /* Typing again means the earlier choice no longer holds. */
      input.closest("[data-lookup]").querySelector("[data-lookup-value]").value = "";
      input.setAttribute("aria-expanded", "true");
    });
    document.addEventListener("keydown", function (event) {
      var input = event.target.closest("[data-lookup-input]");
      if (input && event.key === "ArrowDown") {
        var first = input.closest("[data-lookup]").querySelector(".lookup-option");
        if (first) { event.preventDefault(); first.focus(); }
      }
      var option = event.target.closest(".lookup-option");
      if (option && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
        event.preventDefault();
        var item = option.closest("li");
        var next = event.key === "ArrowDown" ? item.nextElementSibling : item.previousElementSibling;
        if (next && next.querySelector(".lookup-option")) { next.querySelector(".lookup-option").focus(); }
      }
      if (event.key === "Escape") {
        var results = event.target.closest("[data-lookup]");
        if (results) { results.querySelector(".lookup-results").innerHTML = ""; }
        var search = document.getElementById("global-search-results");
        if (search && (search.contains(event.target) || event.target.id === "global-search")) {
          search.innerHTML = "";
        }
      }
    });
    /* Close the top bar's search dropdown when focus leaves it */
    document.addEventListener("click", function (event) {
      var search = document.querySelector(".global-search");
      var results = document.getElementById("global-search-results");
      if (search && results && !search.contains(event.target)) { results.innerHTML = ""; }
    });
  }

  /* Pipeline board: drag a card to another column to move the deal */
  function moveCard(card, fromList, oldIndex, toList) {
    var body = new FormData();
    body.append("stage", toList.dataset.stageId);
    body.append("version", card.dataset.version);
    card.classList.add("is-saving");
    fetch(card.dataset.moveUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: "The server did not answer." }; });
    }).then(function (result) {
      card.classList.remove("is-saving");
      if (result.ok) {
        card.dataset.version = result.version;
        var versionInput = card.querySelector("[data-version-input]");
        if (versionInput) { versionInput.value = result.version; }
        updateCounts(fromList, toList, card);
        toast(result.message, false);
      } else {
        snapBack(card, fromList, oldIndex);
        toast(result.message, true);
      }
    }).catch(function () {
      card.classList.remove("is-saving");
      snapBack(card, fromList, oldIndex);
      toast("Could not reach the server; the deal was not moved.", true);
    });
  }

  function snapBack(card, list, index) {
    var before = list.children[index] || null;
    list.insertBefore(card, before);
  }

  function updateCounts(fromList, toList, card) {
    [[fromList, -1], [toList, 1]].forEach(function (pair) {
      var column = pair[0].closest(".board-column");
      var counter = column.querySelector("[data-column-count]");
      if (counter) {
        var n = parseInt(counter.textContent, 10) + pair[1];
        counter.textContent = n + (n === 1 ? " deal" : " deals");
      }
      updateTotal(column, card, pair[1]);
    });
  }

  /* Column totals are kept per currency: amounts in different currencies never add up. */
  function updateTotal(column, card, sign) {
    var currency = card.dataset.currency;
    if (!currency) { return; }
    var total = null;
    column.querySelectorAll("[data-currency-total]").forEach(function (el) {
      if (el.dataset.currencyTotal === currency) { total = el; }
    });
    if (!total) {
      if (sign < 0) { return; }
      total = document.createElement("span");
      total.className = "column-total";
      total.dataset.currencyTotal = currency;
      total.dataset.amount = "0";
      total.dataset.count = "0";
      insertSorted(column.querySelector(".column-summary"), total);
    }
    /* Sum in cents so repeated moves do not drift. */
    var cents = Math.round(parseFloat(total.dataset.amount) * 100) +
      sign * Math.round(parseFloat(card.dataset.amount || "0") * 100);
    var count = parseInt(total.dataset.count, 10) + sign;
    if (count <= 0) { total.remove(); return; }
    total.dataset.amount = (cents / 100).toFixed(2);
    total.dataset.count = String(count);
    total.textContent = currency + " " + Math.round(cents / 100).toLocaleString("en-US");
  }

  function insertSorted(summary, total) {
    var after = null;
    summary.querySelectorAll("[data-currency-total]").forEach(function (el) {
      if (el.dataset.currencyTotal > total.dataset.currencyTotal && !after) { after = el; }
    });
    summary.insertBefore(total, after);
  }

  function setupBoard() {
    var board = document.querySelector("[data-board]");
    if (!board || board.hasAttribute("data-readonly") || typeof window.Sortable === "undefined") { return; }
    board.querySelectorAll("[data-stage-id]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board", animation: 150, filter: "select, button, input", preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          moveCard(event.item, event.from, event.oldIndex, event.to);
        }
      });
    });
  }

  /* Shareable list URLs: leave out filters that are not set */
  function setupListParams() {
    document.body.addEventListener("htmx:configRequest", function (event) {
      var form = event.detail.elt.closest && event.detail.elt.closest("#list-filters, #list-results");
      if (!form || event.detail.verb !== "get") { return; }
      var params = event.detail.parameters;
      Object.keys(params).forEach(function (key) {
        if (params[key] === "" || key === "cursor" && event.detail.elt.tagName === "FORM") {
          delete params[key];
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupListParams();
    setupNav();
    setupAutosubmit(document);
    setupLookups();
    setupBoard();
  });
})();
