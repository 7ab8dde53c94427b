// The service worker of the inbox (scope /inbox/): shows a push of new mail (sent by the server when a
// sync stored new INBOX messages) and opens the message when the notification is clicked.
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function lookingAtInbox(clients) {
  // a focused tab showing INBOX already shows the new messages: no notification for them
  return clients.some(function (client) {
    if (!client.focused) return false;
    var folder = new URL(client.url).searchParams.get("folder");
    return !folder || folder === "INBOX";
  });
}

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (error) { data = {}; }
  var messages = data.messages || [];
  if (!messages.length) return;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (clients) {
    if (lookingAtInbox(clients)) return null;
    var first = messages[0], many = (data.count || messages.length) > 1;
    // the same tag as an open tab's notification of the same message: one notification, not two
    var title = many ? data.many : first.sender;
    var body = many ? messages.map(function (m) { return m.sender + ": " + (m.subject || data.no_subject); }).join("\n")
      : [first.subject || data.no_subject, first.line].filter(Boolean).join("\n");
    return self.registration.showNotification(title, {
      body: body, tag: many ? "inkorg-new-mail" : "inkorg-m" + first.id,
      icon: "/static/img/icon.svg", data: { url: many ? data.url : first.url }
    });
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL((event.notification.data && event.notification.data.url) || "/inbox/", self.location.origin).href;
  // an open inbox tab is focused and opens the message itself (static/js/notify.js); else a new tab opens it
  var done = self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (clients) {
    var tab = clients.find(function (client) { return new URL(client.url).pathname.indexOf("/inbox/") === 0; });
    if (!tab) return self.clients.openWindow(url);
    tab.postMessage({ inkorg: "open", url: url });
    return tab.focus().catch(function () { return tab; });
  });
  event.waitUntil(done);
});
