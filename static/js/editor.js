// The compose window's formatting: Squire (static/vendor) over the message's text area, loaded the
// first time a compose window opens. Without JavaScript, or if the editor cannot load, the text area
// is what is sent. The editor's HTML travels in the form's "html" field; the server cleans it again
// and writes the plain-text part from it, so nothing here is trusted.
(function () {
  "use strict";

  var loading = null;

  function script(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function libraries(box) {
    if (!loading) {
      loading = script(box.getAttribute("data-purify")).then(function () {
        return script(box.getAttribute("data-squire"));
      });
    }
    return loading;
  }

  // Pasted and loaded HTML: DOMPurify's safe subset, links only to http(s) and mailto, no images
  // from elsewhere (a pasted remote image would be a beacon; the server drops it too).
  function sanitize(html) {
    var fragment = window.DOMPurify.sanitize(html, {
      RETURN_DOM_FRAGMENT: true,
      FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "svg", "math"],
      FORBID_ATTR: ["class", "id"],
      ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|cid):|\/(?!\/))/i
    });
    fragment.querySelectorAll("img").forEach(function (image) {
      if (!/^(?:cid:|\/(?!\/))/i.test(image.getAttribute("src") || "")) image.remove();
    });
    fragment.querySelectorAll("[style]").forEach(function (element) {
      if (/url\s*\(|expression|@import/i.test(element.getAttribute("style"))) element.removeAttribute("style");
    });
    return fragment;
  }

  function asHTML(text) {
    return text.split("\n").map(function (line) {
      var div = document.createElement("div");
      div.textContent = line;
      return line ? div.outerHTML : "<div><br></div>";
    }).join("");
  }

  function changed(field) {
    field.dispatchEvent(new Event("input", { bubbles: true }));  // a compose window's draft autosave
  }

  var actions = {
    bold: function (e) { return e.hasFormat("B") ? e.removeBold() : e.bold(); },
    italic: function (e) { return e.hasFormat("I") ? e.removeItalic() : e.italic(); },
    underline: function (e) { return e.hasFormat("U") ? e.removeUnderline() : e.underline(); },
    bullets: function (e) { return e.hasFormat("UL") ? e.removeList() : e.makeUnorderedList(); },
    numbers: function (e) { return e.hasFormat("OL") ? e.removeList() : e.makeOrderedList(); },
    quote: function (e) { return e.hasFormat("BLOCKQUOTE") ? e.decreaseQuoteLevel() : e.increaseQuoteLevel(); },
    clear: function (e) { return e.removeAllFormatting(); }
  };

  function start(box) {
    var form = box.closest("form"), text = box.querySelector(".rich-text");
    var area = form && form.querySelector("textarea[name='" + box.getAttribute("data-text") + "']");
    var field = form && form.querySelector("input[name='" + box.getAttribute("data-html") + "']");
    if (!area || !field || box.hasAttribute("data-started")) return;
    box.setAttribute("data-started", "");
    libraries(box).then(function () {
      var editor = new window.Squire(text, { blockTag: "DIV", sanitizeToDOMFragment: sanitize });
      // what was typed into the text area before the editor came keeps its place
      editor.setHTML(area.value === area.defaultValue ? box.getAttribute("data-start") || "" : asHTML(area.value));
      field.value = editor.getHTML();
      // the field's label now names the editor, which takes the text area's place
      var label = form.querySelector("label[for='" + area.id + "']");
      if (label) {
        label.id = label.id || area.id + "-label";
        label.removeAttribute("for");
        text.setAttribute("aria-labelledby", label.id);
        label.addEventListener("click", function () { editor.focus(); });
      }
      // the text area leaves (a hidden field carries its name), so nothing can type into it unseen
      var kept = document.createElement("input");
      kept.type = "hidden";
      kept.name = area.name;
      kept.value = area.value;
      var typing = document.activeElement === area;
      area.after(box);
      area.replaceWith(kept);
      box.hidden = false;
      if (typing) {  // whoever was typing in the text area goes on typing, at the end, in the editor
        editor.focus();
        editor.moveCursorToEnd();
      }
      var sync = function () { field.value = editor.getHTML(); };
      editor.addEventListener("input", sync);
      editor.addEventListener("pathChange", function () {
        ["bold:B", "italic:I", "underline:U"].forEach(function (pair) {
          var parts = pair.split(":"), button = box.querySelector("[data-do=" + parts[0] + "]");
          button.setAttribute("aria-pressed", String(editor.hasFormat(parts[1])));
        });
      });
      box.querySelector(".rich-tools").addEventListener("click", function (event) {
        var button = event.target.closest("button[data-do]");
        if (!button) return;
        var what = button.getAttribute("data-do");
        if (what === "link") {
          var address = window.prompt(box.getAttribute("data-link-prompt"), "https://");
          if (!address || !/^(?:https?:\/\/\S+|mailto:\S+@\S+)$/i.test(address.trim())) return editor.focus();
          editor.makeLink(address.trim());
        } else actions[what](editor);
        editor.focus();
        sync();
        changed(field);
      });
      box.querySelector("select[data-do=size]").addEventListener("change", function (event) {
        editor.setFontSize(event.target.value || null);
        editor.focus();
        sync();
        changed(field);
      });
      // a template's [[field]] goes in where the cursor is
      var insert = form.querySelector("select[data-insert-field]");
      if (insert) insert.addEventListener("change", function () {
        if (insert.value) editor.insertPlainText(insert.value, false);
        insert.value = "";
        editor.focus();
        sync();
      });
      // a template chosen in a compose window: its text where the cursor is, its subject if there is none
      form.addEventListener("inkorg:template", function (event) {
        editor.focus();
        editor.insertHTML(event.detail.html);
        var subject = form.querySelector("input[name=subject]");
        if (subject && !subject.value && event.detail.subject) subject.value = event.detail.subject;
        sync();
        changed(field);
      });
      var choice = form.querySelector(".template-choice[data-template-url]");
      if (choice) {
        choice.hidden = false;
        choice.querySelector("select").addEventListener("change", function (event) {
          var picked = event.target.value;
          event.target.value = "";
          if (!picked) return;
          var data = new FormData(form);
          data.delete("attachments");
          data.set("template", picked);
          fetch(choice.getAttribute("data-template-url"), {
            method: "POST", body: data, credentials: "same-origin", headers: { "HX-Request": "true" }
          }).then(function (response) {
            return response.ok ? response.json() : Promise.reject(response.status);
          }).then(function (answer) {
            var key = form.querySelector("input[name=window]");
            if (key && answer.window) key.value = answer.window;
            var uploads = form.querySelector("#uploads");
            if (uploads) {
              uploads.outerHTML = answer.uploads;
              window.htmx.process(form.querySelector("#uploads"));
            }
            form.dispatchEvent(new CustomEvent("inkorg:template", { detail: answer }));
          }).catch(function () { /* nothing changes; the user can choose again */ });
        });
      }
      if (area.hasAttribute("autofocus")) {
        editor.focus();
        editor.moveCursorToStart();  // above a reply's quote, as in the text area
      }
      // every request of the form (Send, Save draft, the autosave) carries what the editor shows now
      form.addEventListener("htmx:configRequest", function (event) {
        sync();
        event.detail.parameters[field.name] = field.value;
      });
      form.addEventListener("submit", sync);
    }).catch(function () { /* the text area stays, and is what is sent */ });
  }

  function startAll(root) {
    (root.querySelectorAll ? root.querySelectorAll(".rich[data-squire]") : []).forEach(start);
  }

  document.addEventListener("htmx:load", function (event) { startAll(event.target); });
  document.addEventListener("DOMContentLoaded", function () { startAll(document); });
})();
