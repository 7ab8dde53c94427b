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
      // a request the close started (the last draft save) answers to an element still in the page
      dialog.querySelectorAll("[data-outlives-dialog]").forEach(function (element) {
        element.hidden = true;
        document.body.appendChild(element);
      });
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

  // The folder picker the list's answer brings anew stays open if the user has it open.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target, fragment = event.detail.fragment;
    if (!target || target.id !== "folder-picker" || !target.open || !fragment) return;
    var incoming = fragment.id === "folder-picker" ? fragment : fragment.querySelector && fragment.querySelector("#folder-picker");
    if (incoming) incoming.setAttribute("open", "");
  });

  // a page that htmx brought whole (a redirect in place) may bring a confirmation: it goes in time too
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target === document.body) showToast();
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "toast") showToast();
  });

  // Sent or discarded: the form goes away without saving a draft again, and says so; the list shows
  // at once what changed (a sent draft leaves Drafts).
  document.addEventListener("inkorg:done", function (event) {
    document.querySelectorAll("#modal dialog.compose, #modal dialog.document").forEach(function (dialog) { dialog.remove(); });
    if (event.detail && event.detail.toast) say(event.detail.toast);
    document.body.dispatchEvent(new CustomEvent("inkorg:refresh"));
  });

  // A short word from the server with nothing to swap ("Draft saved" after the window closed).
  document.addEventListener("inkorg:toast", function (event) {
    if (event.detail && event.detail.toast) say(event.detail.toast);
  });

  // A new error never shows under an earlier action's confirmation: the toast goes.
  function clearToast() {
    var toast = document.getElementById("toast");
    clearTimeout(toastTimer);
    if (toast) toast.replaceChildren();
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status >= 400) clearToast();
  });
  document.addEventListener("htmx:sendError", clearToast);

  // --- recipients as chips ------------------------------------------------------------------------

  // A recipients field (data-chips) becomes chips, one for each address, and a field to type the next
  // one in; the form still posts the same text (a hidden field with the field's name), so without
  // script the plain field works as before. A comma, semicolon, Enter, leaving the field or choosing a
  // suggestion makes a chip; a pasted list becomes many; Backspace in the empty field takes the last
  // one back to edit; an address that cannot be one is marked, and said, before Send.
  var ADDRESS = /^[A-Za-z0-9.!#$%&'*+\/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
  var MISTYPED = /@(gmial|gmai|gmal|gamil|gnail|hotmial|hotmal|hotmai|outlok|outloo|yaho|yahooo|iclod|icoud)\.|\.(con|cmo|ocm|coom|nte|ser|ese)$/i;
  var SEPARATOR = /[,;\n](?=(?:[^"]*"[^"]*")*[^"]*$)/;

  function parseRecipient(text) {
    var match = /^\s*(?:"?((?:[^"\\]|\\.)*?)"?\s*)<([^<>]*)>\s*$/.exec(text);
    if (match) return { name: match[1].replace(/\\(.)/g, "$1").trim(), address: match[2].trim() };
    return { name: "", address: text.trim() };
  }

  function chipify(input) {
    if (input.inkorgChips || !input.name) return;
    input.inkorgChips = true;
    var form = input.closest("form"), words = form ? form.dataset : {};
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.name;
    input.removeAttribute("name");
    var box = document.createElement("div");
    box.className = "chips";
    var list = document.createElement("ul");
    list.className = "chip-list";
    var warning = document.createElement("p");
    warning.className = "error chip-warning";
    warning.setAttribute("role", "alert");
    warning.hidden = true;
    input.parentNode.insertBefore(box, input);
    box.appendChild(list);
    box.appendChild(input);
    box.parentNode.insertBefore(hidden, box.nextSibling);
    box.parentNode.insertBefore(warning, hidden.nextSibling);
    var entries = [];

    function sync() {
      var typed = input.value.trim();
      hidden.value = entries.concat(typed ? [typed] : []).join(", ");
      var bad = entries.filter(function (entry) { return !looksRight(entry); }).length;
      warning.hidden = !bad;
      warning.textContent = bad ? words.chipWarning || "" : "";
      box.classList.toggle("has-bad", !!bad);
    }

    function looksRight(entry) {
      var address = parseRecipient(entry).address;
      return ADDRESS.test(address) && !MISTYPED.test(address);
    }

    function draw() {
      list.replaceChildren();
      entries.forEach(function (entry, index) {
        var parts = parseRecipient(entry);
        var chip = document.createElement("li");
        chip.className = "chip" + (looksRight(entry) ? "" : " bad");
        chip.title = parts.address;
        if (parts.name) {
          var name = document.createElement("span");
          name.className = "chip-name";
          name.textContent = parts.name;
          chip.appendChild(name);
          chip.appendChild(document.createTextNode(" "));
        }
        var address = document.createElement("span");
        address.className = "chip-address";
        address.textContent = parts.address;
        chip.appendChild(address);
        if (!looksRight(entry)) {
          var note = document.createElement("span");
          note.className = "visually-hidden";
          note.textContent = " (" + (words.chipBad || "") + ")";
          chip.appendChild(note);
        }
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "chip-remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", (words.chipRemove || "Remove") + ": " + (parts.name || parts.address));
        remove.addEventListener("click", function () {
          entries.splice(index, 1);
          draw();
          input.focus();
          input.dispatchEvent(new Event("input", { bubbles: true }));  // the draft is saved again
        });
        chip.appendChild(remove);
        list.appendChild(chip);
      });
      sync();
    }

    function take(text, all) {
      var pieces = text.split(SEPARATOR);
      var rest = all ? "" : pieces.pop();
      pieces.forEach(function (piece) { if (piece.trim()) entries.push(piece.trim()); });
      if (all && pieces.length === 0 && text.trim()) entries.push(text.trim());
      input.value = all ? "" : rest.replace(/^\s+/, "");
      draw();
    }

    function suggested(value) {
      var options = input.list ? input.list.options : [];
      for (var i = 0; i < options.length; i++) if (options[i].value === value) return true;
      return false;
    }

    input.addEventListener("input", function (event) {
      if (event.inputType === "insertReplacementText" || (!event.inputType && suggested(input.value))) take(input.value, true);
      else if (SEPARATOR.test(input.value)) take(input.value, false);
      else sync();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && input.value.trim()) {
        event.preventDefault();
        take(input.value, true);
      } else if (event.key === "Backspace" && !input.value && entries.length) {
        event.preventDefault();
        input.value = entries.pop();
        draw();
      }
    });
    input.addEventListener("blur", function () { if (input.value.trim()) take(input.value, true); });
    box.addEventListener("click", function (event) { if (event.target === box || event.target === list) input.focus(); });
    take(input.value, true);
  }

  // --- files dropped on a window (data-drop-files: the file field they go to) ----------------------

  function dropTarget(event) {
    var dialog = event.target.closest && event.target.closest("[data-drop-files]");
    var types = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.types || []) : [];
    return dialog && types.indexOf("Files") !== -1 ? dialog : null;
  }
  document.addEventListener("dragover", function (event) {
    var dialog = dropTarget(event);
    if (!dialog) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    dialog.classList.add("dropping");
  });
  document.addEventListener("dragleave", function (event) {
    var dialog = event.target.closest && event.target.closest("[data-drop-files]");
    if (dialog && (!event.relatedTarget || !dialog.contains(event.relatedTarget))) dialog.classList.remove("dropping");
  });
  document.addEventListener("drop", function (event) {
    var dialog = dropTarget(event);
    if (!dialog) return;
    event.preventDefault();
    dialog.classList.remove("dropping");
    var field = document.getElementById(dialog.getAttribute("data-drop-files"));
    if (!field || !event.dataTransfer.files.length) return;
    field.files = event.dataTransfer.files;
    field.dispatchEvent(new Event("change", { bubbles: true }));
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
      countPicked();
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
      countPicked();
    }
    // a bottom sheet's Cancel, or a tap on the dimmed page around it, closes it
    var sheet = event.target.closest("[data-close-menu]") ? event.target.closest("details") :
      (event.target.matches && event.target.matches("details.popup[open]") ? event.target : null);
    if (sheet) {
      event.preventDefault();
      sheet.removeAttribute("open");
      var summary = sheet.querySelector("summary");
      if (summary) summary.focus();
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

  // The multi-select bar says how many messages are picked, and "Select all" becomes "Select none"
  // when all are; Shift-click picks every message between the last box clicked and this one.
  function countPicked() {
    var bar = document.getElementById("bulk");
    if (!bar) return;
    var picks = document.querySelectorAll("#message-list .pick");
    var picked = document.querySelectorAll("#message-list .pick:checked").length;
    // as high as the tools it covers (the list starts below them), so the list does not move
    var listing = document.getElementById("listing");
    if (picked && listing && listing.offsetParent) bar.style.height = listing.offsetTop + "px";
    var count = bar.querySelector(".picked-count");
    if (count) count.textContent = picked ? (picked === 1 ? count.dataset.one : count.dataset.many).replace(/\d+/, picked) : "";
    var toggle = bar.querySelector("[data-select-all]");
    if (toggle) {
      if (!toggle.dataset.all) toggle.dataset.all = toggle.textContent;
      toggle.textContent = picks.length && picked === picks.length ? toggle.dataset.none : toggle.dataset.all;
    }
  }
  var lastPick = null;
  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("#message-list .pick");
    if (!box) return;
    if (event.shiftKey && lastPick && lastPick !== box && lastPick.isConnected) {
      var boxes = Array.prototype.slice.call(document.querySelectorAll("#message-list .pick"));
      var from = boxes.indexOf(lastPick), to = boxes.indexOf(box);
      boxes.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (other) { other.checked = box.checked; });
    }
    lastPick = box;
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#message-list .pick")) countPicked();
  });
  document.addEventListener("htmx:afterSettle", countPicked);

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

  // The status line of a server that does not answer counts down to the next try (the list's poll
  // brings the new line when that try is made); only while such a line is shown. The counting figure
  // is hidden from screen readers, which read the line once as it came.
  var countdownTimer = null;
  function countDown() {
    var counters = document.querySelectorAll("[data-countdown]");
    if (!counters.length) {
      clearInterval(countdownTimer);
      countdownTimer = null;
      return;
    }
    counters.forEach(function (counter) {
      var from = counter.getAttribute("data-countdown");
      if (counter.inkorgFrom !== from) {  // a new line (or the same element morphed into one)
        counter.inkorgFrom = from;
        counter.inkorgUntil = Date.now() + 1000 * Number(from);
      }
      counter.textContent = String(Math.max(0, Math.ceil((counter.inkorgUntil - Date.now()) / 1000)));
    });
  }
  function startCountdown() {
    if (countdownTimer === null && document.querySelector("[data-countdown]")) countdownTimer = setInterval(countDown, 1000);
  }
  document.addEventListener("htmx:afterSettle", startCountdown);

  document.addEventListener("DOMContentLoaded", function () {
    startCountdown();
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) { input.value = zone || ""; });
    reportZone();
    document.querySelectorAll("input[data-chips]").forEach(chipify);
    openModals(document);
    markSelected();
    showToast();
    retitle();
  });
  document.addEventListener("htmx:afterSettle", markSelected);
  document.addEventListener("htmx:load", function (event) {
    // the chips first: moving a field into its box would take the focus the dialog gives it
    event.target.querySelectorAll("input[data-chips]").forEach(chipify);
    openModals(event.target);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-outlives-dialog") && elt.parentElement === document.body) elt.remove();
  });
})();
