// socialsec page behaviour. Loaded with `defer` right after htmx, so `htmx` exists and
// this runs before htmx initialises the page on DOMContentLoaded.
// No inline script anywhere: the Content-Security-Policy allows scripts from 'self' only.
(function () {
  "use strict";

  var config = htmx.config;
  // htmx would add its indicator rules as an inline <style>, which the CSP blocks; app.css has them.
  config.includeIndicatorStyles = false;
  // Nothing here evaluates strings or runs scripts found in swapped HTML.
  config.allowEval = false;
  config.allowScriptTags = false;
  // When a swap brings an element whose id is already on the page, htmx settles its attributes,
  // style included; a style attribute set from script is what the CSP blocks. Settle no style.
  config.attributesToSettle = ["class", "width", "height"];
  // htmx ignores 4xx/5xx bodies by default. Our 4xx answers are error partials made for the
  // target (errors/_domain_error.html, 403.html, 404.html), so swap them in; a 5xx is a whole
  // page, so keep the target and show the generic alert instead (below).
  config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: true },
    { code: "...", swap: false, error: true },
  ];

  // Django's CSRF check: send the token from <meta name="csrf-token"> with every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  function showServerError(show) {
    var alert = document.getElementById("htmx-error");
    if (alert) {
      alert.classList.toggle("d-none", !show);
    }
  }

  document.addEventListener("htmx:beforeRequest", function () {
    showServerError(false);
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status >= 500) {
      showServerError(true);
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showServerError(true);
  });
})();
