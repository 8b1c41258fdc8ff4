// Import pages: size the progress bars from data-progress. Setting style from a script is
// allowed by the Content-Security-Policy; a style attribute in the HTML is not.
(function () {
  "use strict";

  function sizeBars(root) {
    root.querySelectorAll(".progress-bar[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0)) + "%";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sizeBars(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    sizeBars(event.detail.elt.parentNode || document);
  });
})();
