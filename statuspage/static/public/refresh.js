// Keeps the page current without a reload. Every 30-45 s it reads the Statuspage-compatible
// /api/v2/summary.json; when its `page.updated_at` (moved by every public change) or its
// `status.story` differ from the page's, it fetches the page itself again, in the visitor's
// language as a reload would, and puts the new content in place. So the banner, the notice
// that the automatic checks are delayed, the self-check, the incidents, the maintenance and
// the services tell the server's one story, and new incidents appear and resolved ones move
// to the past, as on Statuspage. The page is complete without this script.
(function () {
  "use strict";
  var live = document.getElementById("live-page");
  if (!live || !window.fetch || !window.DOMParser) return;
  var interval = 30000 + Math.floor(Math.random() * 15000); // spread the load of many visitors
  var busy = false;

  function isCurrent(summary) {
    return (
      summary.page.updated_at === live.dataset.updatedAt &&
      summary.status.story === live.dataset.story
    );
  }

  // A group or a chart the visitor opened or closed stays so.
  function detailsKey(details) {
    var component = details.closest("[data-component-id]");
    var group = details.querySelector(".group-name");
    return [
      details.className,
      component ? component.dataset.componentId : "",
      group ? group.textContent : "",
    ].join("|");
  }

  function put(fresh) {
    var opened = {};
    live.querySelectorAll("details").forEach(function (details) {
      opened[detailsKey(details)] = details.open;
    });
    fresh.querySelectorAll("details").forEach(function (details) {
      var key = detailsKey(details);
      if (key in opened) details.open = opened[key];
    });
    // The banner stays the same node, so that screen readers announce its new words.
    var banner = live.querySelector("[data-banner]");
    var freshBanner = fresh.querySelector("[data-banner]");
    if (banner && freshBanner) {
      banner.className = freshBanner.className;
      banner.dataset.indicator = freshBanner.dataset.indicator;
      banner.innerHTML = freshBanner.innerHTML;
    }
    Array.prototype.slice.call(live.children).forEach(function (node) {
      if (node !== banner) node.remove();
    });
    Array.prototype.slice.call(fresh.children).forEach(function (node) {
      if (node !== freshBanner || !banner) live.appendChild(document.adoptNode(node));
    });
    live.dataset.story = fresh.dataset.story;
    live.dataset.updatedAt = fresh.dataset.updatedAt;
  }

  function reloadContent() {
    // `no-cache`: ask the server (a 304 when nothing moved): the browser's copy is older.
    return fetch(window.location.pathname, { cache: "no-cache", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live-page");
        if (fresh) put(fresh);
      });
  }

  function refresh() {
    if (document.hidden || busy) return;
    busy = true;
    // `no-cache`: ask the server (a 304 when nothing moved) rather than take the browser's
    // copy, which it may keep a while after a change (max-age, stale-while-revalidate).
    fetch("/api/v2/summary.json", { cache: "no-cache", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (summary) {
        if (summary && summary.page && summary.status && !isCurrent(summary)) {
          return reloadContent();
        }
      })
      .catch(function () { /* offline or down: keep what the page shows */ })
      .then(function () { busy = false; });
  }

  window.setInterval(refresh, interval);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
