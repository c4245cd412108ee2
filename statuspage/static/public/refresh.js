// Keeps the banner and the component statuses current without a reload, from the
// Statuspage-compatible /api/v2/summary.json. The page is complete without this script.
(function () {
  "use strict";
  var labelsNode = document.getElementById("status-labels");
  if (!labelsNode || !window.fetch) return;
  var labels = JSON.parse(labelsNode.textContent);
  var ICONS = {
    none: "operational",
    minor: "degraded_performance",
    major: "partial_outage",
    critical: "major_outage",
    maintenance: "under_maintenance",
  };
  var interval = 30000 + Math.floor(Math.random() * 15000); // spread the load of many visitors

  function setStatus(element, status) {
    if (!labels.statuses[status] || element.dataset.status === status) return;
    element.dataset.status = status;
    element.className = "status status-" + status;
    element.querySelector(".status-word").textContent = labels.statuses[status];
    element.querySelector("use").setAttribute("href", "#icon-" + status);
  }

  function apply(summary) {
    var banner = document.querySelector("[data-banner]");
    var indicator = summary.status && summary.status.indicator;
    if (banner && labels.indicators[indicator] && banner.dataset.indicator !== indicator) {
      banner.dataset.indicator = indicator;
      banner.className = "banner banner-" + indicator;
      banner.querySelector("[data-banner-text]").textContent = labels.indicators[indicator];
      banner.querySelector("[data-banner-icon]").setAttribute("href", "#icon-" + ICONS[indicator]);
    }
    (summary.components || []).forEach(function (component) {
      var item = document.querySelector('[data-component-id="' + component.id + '"]');
      if (!item) return;
      var status = item.querySelector(".component-head .status, .meta .status");
      if (status) setStatus(status, component.status);
    });
  }

  function refresh() {
    if (document.hidden) return;
    fetch("/api/v2/summary.json", { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (summary) { if (summary) apply(summary); })
      .catch(function () { /* offline or down: keep what the page shows */ });
  }

  window.setInterval(refresh, interval);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
})();
