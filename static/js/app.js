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
      var first = dialog.querySelector("[autofocus]:not([readonly]), .has-error input, input:not([type=hidden]):not([readonly]), button");
      if (first) first.focus();
    });
  }

  // A closed dialog leaves the page it was opened over; a page that is only the dialog goes to the inbox.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement) || !dialog.hasAttribute("data-modal")) return;
    // not the close() that precedes showModal(); later, so handlers of the close (a last draft save) still run
    setTimeout(function () {
      if (dialog.open || !dialog.parentElement) return;
      dialog.remove();
      focusOpener(dialog.inkorgOpener);
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

  // Ctrl/Cmd-click must not reach htmx's own click handling of the row link
  document.addEventListener("htmx:confirm", function (event) {
    var source = event.detail && event.detail.triggeringEvent;
    if (source && (source.ctrlKey || source.metaKey) && event.target.closest("[data-select]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    // the profile menu closes when one of its entries is chosen or the user clicks elsewhere
    document.querySelectorAll("details.profile[open]").forEach(function (menu) {
      if (!menu.contains(event.target) || event.target.closest(".menu a, .menu button")) menu.removeAttribute("open");
    });
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
    document.querySelectorAll("details.folder-picker[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
    if (event.target.closest("[data-dismiss-notice]")) {  // a mail failure's notice (error.html)
      document.getElementById("notice").innerHTML = "";
      return;
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

  // Mark as read/unread shows at once; the answer then shows the server's true state (or its refusal).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var button = event.detail.elt;
    if (!button || button.name !== "seen" || !button.closest("#bulk")) return;
    document.querySelectorAll(".message:has(.pick:checked)").forEach(function (li) {
      li.classList.toggle("unread", button.value === "0");
    });
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

  document.addEventListener("DOMContentLoaded", function () { openModals(document); markSelected(); });
  document.addEventListener("htmx:afterSettle", markSelected);
  document.addEventListener("htmx:load", function (event) { openModals(event.target); });
})();
