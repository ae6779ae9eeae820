// Quick exit: clear what was typed and leave for a neutral page without leaving this page in the history,
// so the back button does not bring the form back. Works without this script too (a plain link).
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-quick-exit]");
  if (!link) return;
  event.preventDefault();
  document.querySelectorAll("form").forEach(function (form) { form.reset(); });
  document.body.innerHTML = "";
  window.location.replace(link.href);
});
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape") {
    var link = document.querySelector("[data-quick-exit]");
    if (link) link.click();
  }
});
