// casecheck workspace: the only script (CSP script-src 'self'; no inline handlers).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.print").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form").forEach(function (f) {      // no double submit of a step
    f.addEventListener("submit", function () {
      f.querySelectorAll("button[type=submit]").forEach(function (b) { setTimeout(function () { b.disabled = true; }, 0); });
    });
  });
});
