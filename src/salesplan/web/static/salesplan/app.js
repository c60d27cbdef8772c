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

  /* Pipeline board: drag a card to another column to move the deal. A drop on a lost
     stage asks why (dialog); a drop on a won stage asks for confirmation, then offers
     Undo for a few seconds. Column counts and totals are redrawn by the server. */
  var UNDO_SECONDS = 8;

  function postForm(url, fields) {
    var body = new FormData();
    Object.keys(fields).forEach(function (key) { body.append(key, fields[key]); });
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: "The server did not answer." }; });
    }, function () {
      return { ok: false, message: "Could not reach the server; nothing was changed." };
    });
  }

  function setCardVersion(card, version) {
    card.dataset.version = version;
    var versionInput = card.querySelector("[data-version-input]");
    if (versionInput) { versionInput.value = version; }
  }

  function refreshSummaries() {
    var board = document.querySelector("[data-board]");
    if (board && board.dataset.summariesUrl && window.htmx) {
      window.htmx.ajax("GET", board.dataset.summariesUrl, { source: board, swap: "none" });
    }
  }

  /* Post the move; resolve with the server's answer. The card stays where it was dropped
     only when the move is saved. */
  function moveCard(card, toList, extra) {
    var fields = { stage: toList.dataset.stageId, version: card.dataset.version };
    Object.keys(extra || {}).forEach(function (key) { fields[key] = extra[key]; });
    card.classList.add("is-saving");
    return postForm(card.dataset.moveUrl, fields).then(function (result) {
      card.classList.remove("is-saving");
      if (result.ok) {
        setCardVersion(card, result.version);
        refreshSummaries();
      }
      return result;
    });
  }

  function snapBack(card, list, index) {
    var before = list.children[index] || null;
    list.insertBefore(card, before);
  }

  /* A dialog for one pending drop: submit posts, errors stay in the dialog, cancel snaps back. */
  function askInDialog(dialog, drop, extraFields, onSaved) {
    var form = dialog.querySelector("form");
    var error = dialog.querySelector("[data-dialog-error]");
    dialog.querySelectorAll("[data-deal-name]").forEach(function (el) { el.textContent = drop.card.dataset.name; });
    dialog.querySelectorAll("[data-stage-name]").forEach(function (el) { el.textContent = drop.to.dataset.stageName; });
    error.hidden = true;
    error.textContent = "";
    form.reset();
    var settled = false;
    function finish() {
      settled = true;
      form.onsubmit = null;
      cancelButton.onclick = null;
      dialog.oncancel = null;
      if (dialog.open) { dialog.close(); }
    }
    function cancel(event) {
      if (event) { event.preventDefault(); }
      if (settled) { return; }
      snapBack(drop.card, drop.from, drop.oldIndex);
      finish();
    }
    var cancelButton = dialog.querySelector("[data-dialog-cancel]");
    cancelButton.onclick = cancel;
    dialog.oncancel = cancel;
    form.onsubmit = function (event) {
      event.preventDefault();
      var submit = form.querySelector("[type=submit]");
      submit.disabled = true;
      moveCard(drop.card, drop.to, extraFields(form)).then(function (result) {
        submit.disabled = false;
        if (result.ok) {
          finish();
          onSaved(result);
        } else {
          error.textContent = result.message;
          error.hidden = false;
        }
      });
    };
    dialog.showModal();
  }

  function offerUndo(drop, result) {
    var box = document.getElementById("undo-toast");
    if (!box) { toast(result.message, false); return; }
    box.querySelector("[data-undo-message]").textContent = result.message;
    var button = box.querySelector("[data-undo]");
    button.disabled = false;
    box.hidden = false;
    window.clearTimeout(box._timer);
    box._timer = window.setTimeout(function () { box.hidden = true; }, UNDO_SECONDS * 1000);
    button.onclick = function () {
      button.disabled = true;
      window.clearTimeout(box._timer);
      postForm(drop.card.dataset.reopenUrl, { version: drop.card.dataset.version }).then(function (answer) {
        box.hidden = true;
        if (answer.ok) {
          setCardVersion(drop.card, answer.version);
          snapBack(drop.card, drop.from, drop.oldIndex);
          refreshSummaries();
        }
        toast(answer.message, !answer.ok);
      });
    };
  }

  function onDrop(drop) {
    var kind = drop.to.dataset.stageKind;
    if (kind === "lost") {
      askInDialog(document.getElementById("lost-dialog"), drop, function (form) {
        return { lost_reason: form.elements.lost_reason.value.trim() };
      }, function (result) { toast(result.message, false); });
    } else if (kind === "won") {
      askInDialog(document.getElementById("won-dialog"), drop, function () { return {}; },
        function (result) { offerUndo(drop, result); });
    } else {
      moveCard(drop.card, drop.to, {}).then(function (result) {
        if (!result.ok) { snapBack(drop.card, drop.from, drop.oldIndex); }
        toast(result.message, !result.ok);
      });
    }
  }

  function setupBoard() {
    var board = document.querySelector("[data-board]");
    if (!board || board.hasAttribute("data-readonly") || typeof window.Sortable === "undefined") { return; }
    board.querySelectorAll("[data-stage-id]").forEach(function (list) {
      window.Sortable.create(list, {
        group: "board", animation: 150, draggable: ".board-card",
        filter: "select, button, input, form", preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to) { return; }
          onDrop({ card: event.item, from: event.from, oldIndex: event.oldIndex, to: event.to });
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

  /* Inline cell edits: a refused edit (409 stale, 422 invalid) still shows its answer,
     which says why and holds the current value or the form again. */
  function setupInlineEdits() {
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var status = event.detail.xhr.status;
      var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
      if ((status === 409 || status === 422) && elt && elt.closest &&
          elt.closest("[data-inline-edit]")) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupListParams();
    setupInlineEdits();
    setupNav();
    setupAutosubmit(document);
    setupLookups();
    setupBoard();
  });
})();
