// What every page does: the phone menu opens and closes; after a submit the answer (or the list of
// what to correct) is brought into view and takes the focus, so a screen reader reads it first.
(function () {
  "use strict";
  var button = document.getElementById("menu-bouton"), menu = document.getElementById("menu");
  if (button && menu) {
    button.hidden = false;  // without scripts the menu simply stays open
    document.documentElement.classList.add("menu-replie");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      document.documentElement.classList.toggle("menu-ouvert", open);
    });
  }
  var target = document.querySelector("[data-focus]");
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "start" });
  }
})();
