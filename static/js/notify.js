// New mail finds the user: desktop notifications from the open tabs, Web Push for when none is open,
// and the unread count on the tab's icon. Permission is asked for only from a click.
(function () {
  "use strict";

  var MODE = "inkorg-notify";          // "on" or "off": this browser's choice
  var KNOWN = "inkorg-notify-known";   // "validity:uid": the newest INBOX message any tab of this browser has seen
  var OFFER = "inkorg-notify-offer";   // "done": the inbox's offer was answered or dismissed

  function stored(key) { try { return localStorage.getItem(key); } catch (error) { return null; } }
  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (error) { /* storage refused: notifications stay off */ }
  }
  function config() {
    var body = document.body;
    if (!body || !body.hasAttribute("data-notify")) return null;
    return { subscribe: body.getAttribute("data-notify"), unsubscribe: body.getAttribute("data-notify-unsubscribe"),
             worker: body.getAttribute("data-worker"), key: body.getAttribute("data-vapid") };
  }
  function supported() { return "Notification" in window; }
  function on() { return supported() && Notification.permission === "granted" && stored(MODE) === "on"; }
  // one tab at a time reads and moves the shared mark (and decides), so each message is notified once
  function exclusive(work) {
    if (navigator.locks && navigator.locks.request) navigator.locks.request("inkorg-notify", work);
    else work();
  }
  function csrf() { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"]; }
  function post(url, data) {
    return fetch(url, { method: "POST", credentials: "same-origin", body: JSON.stringify(data),
                        headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" } });
  }

  // --- the service worker and Web Push ----------------------------------------------------------

  function worker() {
    var settings = config();
    if (!settings || !("serviceWorker" in navigator)) return Promise.reject(new Error("no service worker"));
    var scope = new URL(".", new URL(settings.worker, location.href)).pathname;
    return navigator.serviceWorker.getRegistration(scope).then(function (known) {
      if (known && known.active) return known;  // registered already: no update check on the way to a notification
      return navigator.serviceWorker.register(settings.worker, { scope: scope }).then(activated);
    });
  }

  function activated(registration) {
    var coming = registration.installing || registration.waiting;
    if (registration.active || !coming) return registration;
    return new Promise(function (resolve) {
      coming.addEventListener("statechange", function () {
        if (coming.state === "activated") resolve(registration);
      });
    });
  }

  function key(text) {
    var raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - text.length % 4) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  function subscribe() {
    var settings = config();
    if (!settings || !window.PushManager) return Promise.resolve(null);
    return worker().then(function (registration) {
      return registration.pushManager.getSubscription().then(function (existing) {
        return existing || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(settings.key) });
      });
    }).then(function (subscription) {
      return post(settings.subscribe, subscription.toJSON());
    }).catch(function () { return null; });  // no push service reachable: the open tabs still notify
  }

  function unsubscribe() {
    var settings = config();
    if (!settings || !("serviceWorker" in navigator)) return Promise.resolve(null);
    return worker().then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) return null;
      return post(settings.unsubscribe, { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    }).catch(function () { return null; });
  }

  // --- turning them on and off (a click only) --------------------------------------------------

  function turnOn() {
    if (!supported()) return;
    store(OFFER, "done");
    Notification.requestPermission().then(function (answer) {
      if (answer === "granted") {
        store(MODE, "on");
        subscribe();
      }
      show();
    });
  }

  function turnOff() {
    store(MODE, "off");
    unsubscribe();
    show();
  }

  function show() {
    var settings = config();
    document.querySelectorAll("[data-notify-setting]").forEach(function (box) {
      box.hidden = !settings || !supported();
      var blocked = supported() && Notification.permission === "denied";
      box.querySelector("[data-notify-on]").hidden = on() || blocked;
      box.querySelector("[data-notify-off]").hidden = !on();
      box.querySelector("[data-notify-state='on']").hidden = !on();
      box.querySelector("[data-notify-state='blocked']").hidden = !blocked;
    });
    var offer = document.getElementById("notify-offer");
    if (offer) offer.hidden = !settings || !supported() || Notification.permission !== "default" || !!stored(OFFER) || stored(MODE) === "off";
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("button[data-notify-on]")) turnOn();
    else if (event.target.closest("button[data-notify-off]")) turnOff();
    else if (event.target.closest("button[data-notify-dismiss]")) {
      store(OFFER, "done");
      show();
    }
  });

  // --- which folder a focused tab shows --------------------------------------------------------

  function openFolder() {
    var listing = document.getElementById("listing");
    return listing ? listing.getAttribute("data-folder") : null;
  }

  function lookingAt(folder) { return document.hasFocus() && document.visibilityState === "visible" && openFolder() === folder; }

  // Before notifying, a tab asks the others whether one of them is focused on that folder; a tab
  // answers only for itself, at that moment.
  var answers = window.BroadcastChannel ? new BroadcastChannel("inkorg-looking") : null;
  if (answers) {
    answers.onmessage = function (event) {
      if (event.data && event.data.ask && lookingAt(event.data.ask)) answers.postMessage({ looking: event.data.ask });
    };
  }

  function anyoneLooking(folder) {
    if (lookingAt(folder)) return Promise.resolve(true);
    if (!window.BroadcastChannel) return Promise.resolve(false);
    return new Promise(function (resolve) {
      var channel = new BroadcastChannel("inkorg-looking");
      var timer = setTimeout(function () { channel.close(); resolve(false); }, 100);  // tabs answer within ms
      channel.onmessage = function (event) {
        if (!event.data || event.data.looking !== folder) return;
        clearTimeout(timer);
        channel.close();
        resolve(true);
      };
      channel.postMessage({ ask: folder });
    });
  }

  // --- new messages, from the list the tab polls anyway ----------------------------------------

  function notification(fresh, box) {
    var first = fresh[0], many = fresh.length > 1, noSubject = box.getAttribute("data-no-subject");
    var title = many ? box.getAttribute("data-many").replace("{n}", fresh.length) : first.sender;
    var body = many ? fresh.slice(0, 5).map(function (m) { return m.sender + ": " + (m.subject || noSubject); }).join("\n")
      : [first.subject || noSubject, first.line].filter(Boolean).join("\n");
    var options = { body: body, tag: many ? "inkorg-new-mail" : "inkorg-m" + first.id,
                    icon: document.querySelector("link[rel=icon]").getAttribute("data-icon") || "",
                    data: { url: many ? box.getAttribute("data-inbox-url") : first.url } };
    // through the service worker where there is one (its click handler focuses this tab and opens
    // the message, also after the page was reloaded); else from the page
    worker().then(function (registration) {
      return registration.showNotification(title, options);
    }).catch(function () {
      var note = new Notification(title, options);
      note.onclick = function () {
        window.focus();
        note.close();
        location.assign(options.data.url);
      };
    });
  }

  function arrived() {
    var box = document.getElementById("arrivals");
    if (!box) return;
    var newest = parseInt(box.getAttribute("data-newest"), 10) || 0;
    var validity = box.getAttribute("data-validity");
    var items = JSON.parse(box.getAttribute("data-items") || "[]");
    box.setAttribute("data-items", "[]");  // read once: a later swap that keeps it says nothing new
    exclusive(function () {
      var known = knownUid(validity);
      if (newest > known) store(KNOWN, validity + ":" + newest);
      if (!known || !on()) return;  // a first tab (or INBOX renumbered): what is there is not new
      var fresh = items.filter(function (m) { return m.uid > known; });
      if (!fresh.length) return;
      return anyoneLooking(box.getAttribute("data-inbox")).then(function (looked) {
        if (!looked) notification(fresh, box);
      });
    });
  }

  // the newest INBOX UID this browser has seen, if INBOX still has that UIDVALIDITY; else 0
  function knownUid(validity) {
    var mark = (stored(KNOWN) || "").split(":");
    return mark.length === 2 && mark[0] === String(validity) ? parseInt(mark[1], 10) || 0 : 0;
  }

  // the list's poll says what this browser has already seen, so only new mail brings arrivals
  document.addEventListener("htmx:configRequest", function (event) {
    var target = event.detail.target, box = document.getElementById("arrivals");
    if (!target || target.id !== "listing" || event.detail.verb !== "get" || !box || !on()) return;
    var validity = box.getAttribute("data-validity"), known = knownUid(validity);
    if (known) {
      event.detail.parameters.since = known;
      event.detail.parameters.validity = validity;
    }
  });

  // --- the unread count on the tab's icon ------------------------------------------------------

  function badge() {
    var listing = document.getElementById("listing"), link = document.querySelector("link[rel=icon]");
    if (!listing || !link) return;
    if (!link.hasAttribute("data-icon")) link.setAttribute("data-icon", link.getAttribute("href"));
    var count = parseInt(listing.getAttribute("data-unread"), 10) || 0;
    if (String(count) === link.getAttribute("data-unread")) return;
    link.setAttribute("data-unread", String(count));
    if (!count) {
      link.setAttribute("href", link.getAttribute("data-icon"));
      link.setAttribute("type", "image/svg+xml");
      return;
    }
    icon(link.getAttribute("data-icon"), function (image) {
      if (link.getAttribute("data-unread") !== String(count)) return;
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = 64;
      var pen = canvas.getContext("2d");
      pen.drawImage(image, 0, 0, 64, 64);
      var text = count > 99 ? "99+" : String(count);
      pen.fillStyle = "#c5221f";
      pen.beginPath();
      pen.roundRect(text.length > 1 ? 18 : 28, 0, text.length > 1 ? 46 : 36, 36, 18);
      pen.fill();
      pen.fillStyle = "#fff";
      pen.font = "bold " + (text.length > 2 ? 22 : 28) + "px sans-serif";
      pen.textAlign = "center";
      pen.textBaseline = "middle";
      pen.fillText(text, text.length > 1 ? 41 : 46, 19);
      link.setAttribute("type", "image/png");
      link.setAttribute("href", canvas.toDataURL("image/png"));
    });
  }

  var iconImage = null;  // the icon, loaded once
  function icon(source, then) {
    if (iconImage && iconImage.complete) return then(iconImage);
    if (!iconImage) iconImage = new Image();
    iconImage.addEventListener("load", function () { then(iconImage); }, { once: true });
    if (!iconImage.src) iconImage.src = source;
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "listing") return;
    badge();
    arrived();
  });
  // a notification clicked: the service worker has focused this tab, which opens the message
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.inkorg !== "open" || typeof data.url !== "string") return;
      var url = new URL(data.url, location.href);
      if (url.origin === location.origin) location.assign(url.href);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if ("serviceWorker" in navigator && config()) navigator.serviceWorker.startMessages();
    badge();
    arrived();
    show();
    document.body.addEventListener("htmx:load", show);
    // a browser with notifications on ties its push subscription to this session (again after a sign-in)
    if (on() && config()) {
      try {
        if (!sessionStorage.getItem("inkorg-push")) {
          sessionStorage.setItem("inkorg-push", "1");
          subscribe();
        }
      } catch (error) { /* no session storage: no push */ }
    }
  });
})();
