// Progressive enhancement only: every dialog and form also works as a plain page without this.
(function () {
  "use strict";

  // Server-rendered <dialog open> becomes a real modal: focus kept inside, Esc closes it.
  function openModals(root) {
    var dialogs = Array.prototype.slice.call(root.querySelectorAll("dialog[data-modal][open]"));
    if (root.matches && root.matches("dialog[data-modal][open]")) dialogs.push(root);
    dialogs.forEach(function (dialog) {
      if (dialog.matches(":modal")) return;
      if (!("inkorgOpener" in dialog)) dialog.inkorgOpener = opener;
      dialog.close();
      dialog.showModal();
      var first = dialog.querySelector("[autofocus]:not([readonly])") ||
        dialog.querySelector(".has-error input, input:not([type=hidden]):not([readonly]), button");
      if (first) {
        first.focus();
        // a reply starts above the quote: the cursor goes to the start of the text, not after the signature
        if (first.hasAttribute("data-caret-start") && first.setSelectionRange) {
          first.setSelectionRange(0, 0);
          first.scrollTop = 0;
        }
      }
    });
  }

  // A closed dialog leaves the page it was opened over; a page that is only the dialog goes to the inbox.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement) || !dialog.hasAttribute("data-modal")) return;
    // Not the close() that precedes showModal() (the close event comes later, when the dialog is open
    // again): only a real close says "closed" (the compose form's last draft save); then the dialog
    // goes, later, so handlers of the close still run, and whoever opened it gets the focus back.
    if (dialog.open) return;
    dialog.dispatchEvent(new CustomEvent("inkorg:closed", { bubbles: false }));
    setTimeout(function () {
      if (dialog.open || !dialog.parentElement) return;
      // the focus goes back only if it is nowhere: a key pressed right after Esc ("/") keeps its own
      var active = document.activeElement;
      var lost = !active || active === document.body || dialog.contains(active);
      dialog.remove();
      if (lost) focusOpener(dialog.inkorgOpener);
    }, 0);
  }, true);

  // Whoever opened a dialog gets the focus back when it closes. A dialog opened from inside another
  // (Next, Advanced settings, a tab) keeps that one's opener; an entry of a menu that has closed
  // gives the focus to the menu's own button.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target, elt = event.detail.elt;
    if (!target || target.id !== "modal" || !elt || !elt.closest) return;
    var inside = elt.closest("dialog[data-modal]");
    opener = inside ? inside.inkorgOpener || null : elt;
  });
  function focusOpener(element) {
    if (!element || !element.isConnected) return;
    var menu = element.closest("details:not([open])");
    (menu ? menu.querySelector("summary") : element).focus();
  }

  // The row of the message in the reading pane stays marked, and is announced as the current one,
  // also when the list is swapped in anew.
  function markSelected() {
    var reading = document.getElementById("reading");
    var id = reading ? reading.getAttribute("data-message") : null;
    document.querySelectorAll(".message-list .message[data-message]").forEach(function (li) {
      var current = id !== null && li.getAttribute("data-message") === id;
      li.classList.toggle("selected", current);
      var link = li.querySelector("[data-select]");
      if (link && current) link.setAttribute("aria-current", "true");
      else if (link) link.removeAttribute("aria-current");
    });
  }

  // --- the list merges what the server sends instead of being replaced --------------------------

  // hx-swap="morph" is idiomorph's (static/vendor): rows keyed by id (li#m-<message id>) stay the same
  // elements, so their focus and place in the scrolled list survive, and the open message's
  // highlight is put back as the swap settles (markSelected). Boxes the user checked and the folder
  // chosen for the bulk buttons stay as they are: the server's answer never has them.
  if (window.Idiomorph) {
    Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name) {
      return name !== "checked" && name !== "selected";
    };
  }

  // Requests that answer with the list say how many rows it shows (so a refresh brings them all and
  // nothing the user scrolled to disappears), and carry the search and sort the list is showing.
  document.addEventListener("htmx:configRequest", function (event) {
    var target = event.detail.target, source = event.detail.elt;
    if (!target || target.id !== "listing" || (source && source.closest && source.closest(".list-query"))) return;
    var params = event.detail.parameters;
    var more = document.getElementById("m-more");
    if (more) params.through = new URL(more.getAttribute("hx-get"), location.href).searchParams.get("after");
    else params.shown = document.querySelectorAll("#message-list > li.message").length;
    var query = document.querySelector(".list-query");
    if (query && event.detail.verb !== "get") {
      ["q", "sort"].forEach(function (name) {
        var field = query.elements[name];
        if (field && !params[name]) params[name] = field.value;
      });
    }
  });

  // Mark as read/unread shows at once; the answer then shows the server's true state (or its refusal).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var button = event.detail.elt;
    if (!button || button.name !== "seen" || !button.closest("#bulk")) return;
    document.querySelectorAll(".message:has(.pick:checked)").forEach(function (li) {
      li.classList.toggle("unread", button.value === "0");
    });
  });

  // The tab says how many unread messages the inbox has, as the list does.
  function retitle() {
    var listing = document.getElementById("listing");
    if (listing && listing.getAttribute("data-title")) document.title = listing.getAttribute("data-title");
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "listing") retitle();
  });

  // Going from one open message to another replaces the history entry: Back returns to the list.
  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var history = event.detail.history;
    if (history && history.type === "push" && /[?&]message=/.test(location.search) && /[?&]message=/.test(history.path)) {
      history.type = "replace";
    }
  });

  // --- short confirmations ---------------------------------------------------------------------

  var toastTimer = null;

  function showToast() {
    var toast = document.getElementById("toast");
    if (!toast || !toast.textContent.trim()) return;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      toast.replaceChildren();
    }, toast.querySelector("form") ? 10000 : 6000);
  }

  function say(text) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    var line = document.createElement("p");
    line.textContent = text;
    toast.replaceChildren(line);
    showToast();
  }

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "toast") showToast();
  });

  // Sent or discarded: the form goes away without saving a draft again, and says so.
  document.addEventListener("inkorg:done", function (event) {
    document.querySelectorAll("#modal dialog.compose, #modal dialog.document").forEach(function (dialog) { dialog.remove(); });
    if (event.detail && event.detail.toast) say(event.detail.toast);
  });

  // --- menus, selection, the phone's Back --------------------------------------------------------

  function closeMenus(except) {
    document.querySelectorAll("details.profile[open], details.folder-picker[open], details.popup[open]").forEach(function (menu) {
      if (menu !== except && !menu.contains(except)) menu.removeAttribute("open");
    });
  }

  // Ctrl/Cmd-click must not reach htmx's own click handling of the row link
  document.addEventListener("htmx:confirm", function (event) {
    var source = event.detail && event.detail.triggeringEvent;
    if (source && (source.ctrlKey || source.metaKey) && event.target.closest("[data-select]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    // a menu closes when one of its entries is chosen or the user clicks elsewhere
    var inMenu = event.target.closest("details.profile, details.folder-picker, details.popup");
    closeMenus(inMenu);
    if (inMenu && event.target.closest(".menu a, .menu button")) inMenu.removeAttribute("open");
    var row = event.target.closest("[data-select]");
    if (row && (event.ctrlKey || event.metaKey)) {  // Ctrl/Cmd-click picks messages for the bulk buttons
      event.preventDefault();
      event.stopPropagation();
      var pick = row.closest(".message").querySelector(".pick");
      if (pick) pick.checked = !pick.checked;
      return;
    }
    if (row) {
      document.querySelectorAll(".message.selected").forEach(function (li) { li.classList.remove("selected"); });
      row.closest(".message").classList.add("selected");
    }
    if (event.target.closest("[data-dismiss-notice]")) {  // a mail failure's notice (error.html)
      document.getElementById("notice").innerHTML = "";
      return;
    }
    if (event.target.closest("[data-select-all]")) {
      var picks = document.querySelectorAll("#message-list .pick");
      var all = Array.prototype.every.call(picks, function (box) { return box.checked; });
      picks.forEach(function (box) { box.checked = !all; });
    }
    var back = event.target.closest("[data-back]");
    if (back && history.state && history.state.htmx) {  // the list is the page before: go back to it
      event.preventDefault();
      history.back();
    }
    var close = event.target.closest("[data-close]");
    if (close && close.closest("dialog")) {
      event.preventDefault();
      close.closest("dialog").close();
    }
  });

  // SSL On/Off moves the port between the two standard ones, unless the user typed another.
  document.addEventListener("change", function (event) {
    var input = event.target;
    var group = input.closest("[data-port-for]");
    if (!group || input.type !== "radio") return;
    var port = document.getElementById(group.getAttribute("data-port-for"));
    var ports = group.getAttribute("data-ports").split(" ");
    if (port && ports.indexOf(port.value) !== -1) port.value = input.value === "on" ? ports[0] : ports[1];
  });

  // Double-click opens the message in a window of its own.
  document.addEventListener("dblclick", function (event) {
    var row = event.target.closest("[data-select]");
    if (row && row.dataset.window) window.open(row.dataset.window, "_blank", "noopener");
  });

  // --- keyboard shortcuts (listed under "?") ----------------------------------------------------

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#message-list > li.message")); }

  function moveCursor(step) {
    var all = rows();
    if (!all.length) return;
    var current = document.querySelector("#message-list > li.message.selected") ||
      (document.activeElement && document.activeElement.closest ? document.activeElement.closest("#message-list > li.message") : null);
    var index = current ? all.indexOf(current) + step : (step > 0 ? 0 : all.length - 1);
    var row = all[Math.max(0, Math.min(all.length - 1, index))];
    document.querySelectorAll(".message.selected").forEach(function (li) { li.classList.remove("selected"); });
    row.classList.add("selected");
    var link = row.querySelector("a[data-select]");
    if (link) link.focus();
  }

  function press(selector) {
    var found = document.querySelector(selector);
    if (found) found.click();
    return !!found;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closeMenus(null);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    // a field of a dialog just closed keeps the focus until the browser moves it: that is not typing
    var typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (typing && typing.closest("dialog:not([open])")) typing = null;
    if (typing || document.querySelector("dialog:modal")) return;
    var key = event.key, done = true;
    if (key === "j" || key === "ArrowDown") moveCursor(1);
    else if (key === "k" || key === "ArrowUp") moveCursor(-1);
    else if (key === "r" || key === "a" || key === "f") done = press("#reading [data-key='" + key + "']");
    else if (key === "c" || key === "n") done = press(".inbox-tools a.primary");
    else if (key === "Delete" || key === "#") {
      done = document.querySelector(".pick:checked") ? press("#bulk button[formaction*='delete']")
        : press("#reading [data-key='Delete']");
    } else if (key === "e") done = press("#reading [data-key='e']");
    else if (key === "u") {
      var mark = document.querySelector("#reading .task-menu input[name=seen]");
      done = !!mark && (mark.value !== "0" || press("#reading [data-key='u']"));
    } else if (key === "/") {
      var search = document.getElementById("q");
      done = !!search;
      if (search) search.focus();
    } else if (key === "?") {
      var help = document.getElementById("shortcuts");
      done = !!help;
      if (help) help.showModal();
    } else done = false;
    if (done) event.preventDefault();
  });

  // "Too large to send" goes into the form that sent it (HX-Retarget), which keeps what was typed: at
  // the top of a dialog's body, in place of an earlier one (a draft save of the same form says it
  // too). A bare 413 from a server in front of the app is not swapped over the form.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (detail.xhr.status !== 413 || !detail.xhr.getResponseHeader("HX-Retarget")) return;
    detail.shouldSwap = true;
    detail.isError = false;
    var form = detail.target.closest("form") || detail.target;
    var body = form.querySelector(".dialog-body");
    if (body) {
      body.querySelectorAll(".too-large").forEach(function (old) { old.remove(); });
      detail.target = body;
    }
  });

  // The browser's time zone goes with the sign-in form, and is sent once by a page of a user who has
  // none yet (signed in before): the server keeps it as theirs. Without script, DEFAULT_TIMEZONE applies.
  function reportZone() {
    var url = document.body.getAttribute("data-zone-report");
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!url || !zone || !window.fetch) return;
    var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
    document.body.removeAttribute("data-zone-report");
    fetch(url, { method: "POST", credentials: "same-origin",
                 headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
                 body: "zone=" + encodeURIComponent(zone) }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) { input.value = zone || ""; });
    reportZone();
    openModals(document);
    markSelected();
    showToast();
    retitle();
  });
  document.addEventListener("htmx:afterSettle", markSelected);
  document.addEventListener("htmx:load", function (event) { openModals(event.target); });
})();
