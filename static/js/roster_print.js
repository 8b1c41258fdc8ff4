// The print button of the printable roster (no inline handlers: the CSP forbids inline script).
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-roster-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
