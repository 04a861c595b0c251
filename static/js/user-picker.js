// Search-as-you-type for user fields (car owner, task assignee, token user).
// Progressive enhancement: the field is a plain text input that accepts a
// username or id, so forms work without this script. It fills the field's
// <datalist> with at most a few matches from the admin lookup endpoint.
(function () {
  "use strict";
  var DELAY_MS = 150;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-lookup");
    if (!list || !url) return;
    var timer = null;
    var last = null;
    var controller = null;

    function show(users) {
      list.replaceChildren();
      users.forEach(function (user) {
        var option = document.createElement("option");
        option.value = user.username;
        option.label = (user.name ? user.name + " " : "") + "<" + user.email + "> #" + user.id;
        list.appendChild(option);
      });
    }

    function search() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (!q) { show([]); return; }
      if (controller) controller.abort();
      controller = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller.signal
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (users) { if (Array.isArray(users)) show(users); })
        .catch(function () { /* aborted or offline: keep the plain text field */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
  }

  document.querySelectorAll("input[data-lookup][list]").forEach(attach);
})();
