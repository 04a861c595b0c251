/* Colour theme: auto (the system's prefers-color-scheme), light or dark, remembered in localStorage.
   Loaded in <head> without defer, so the theme is set before the first paint (no flash of light);
   the navbar's theme menu is wired once the page has loaded. */
(function () {
  "use strict";
  var KEY = "best_app.theme";
  var CHOICES = ["auto", "light", "dark"];
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return CHOICES.indexOf(value) >= 0 ? value : "auto";
    } catch (e) {  // storage disabled: follow the system
      return "auto";
    }
  }

  function apply(choice) {
    var theme = choice === "auto" ? (dark && dark.matches ? "dark" : "light") : choice;
    document.documentElement.setAttribute("data-bs-theme", theme);
    document.documentElement.setAttribute("data-theme-choice", choice);
    var buttons = document.querySelectorAll("[data-theme-value]");
    for (var i = 0; i < buttons.length; i++) {
      var pressed = buttons[i].getAttribute("data-theme-value") === choice;
      buttons[i].setAttribute("aria-pressed", pressed ? "true" : "false");
      buttons[i].classList.toggle("active", pressed);
    }
    var current = document.getElementById("theme-current");
    if (current) current.textContent = choice.charAt(0).toUpperCase() + choice.slice(1);
  }

  apply(stored());
  if (dark) {
    dark.addEventListener("change", function () { if (stored() === "auto") apply("auto"); });
  }
  // Another tab changed it.
  window.addEventListener("storage", function (event) { if (event.key === KEY) apply(stored()); });

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-theme-value]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function () {
        var choice = this.getAttribute("data-theme-value");
        try { window.localStorage.setItem(KEY, choice); } catch (e) { /* kept for this page only */ }
        apply(choice);
      });
    }
    apply(stored());
  });
})();
