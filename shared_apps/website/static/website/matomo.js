// Callrix's self-hosted Matomo (privacy policy §9). Rendered only when configured and when
// the browser did not send DNT: 1; Matomo is told to respect DNT too and to set no cookies.
(function () {
  var tag = document.currentScript;
  var base = tag.getAttribute("data-matomo-url");
  var siteId = tag.getAttribute("data-matomo-site-id");
  if (!base || !siteId) {
    return;
  }
  var _paq = (window._paq = window._paq || []);
  _paq.push(["setDoNotTrack", true]);
  _paq.push(["disableCookies"]);
  _paq.push(["trackPageView"]);
  _paq.push(["enableLinkTracking"]);
  _paq.push(["setTrackerUrl", base + "matomo.php"]);
  _paq.push(["setSiteId", siteId]);
  var script = document.createElement("script");
  script.async = true;
  script.src = base + "matomo.js";
  document.head.appendChild(script);
})();
