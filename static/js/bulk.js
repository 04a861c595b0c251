// The bulk toolbar of the admin lists (templates/admin/bulk/_toolbar.html).
// Progressive enhancement: without this script the row checkboxes, the action,
// its argument and "select all matching" still post; this adds "select all on
// this page", a count of what is selected, and shows only the argument field
// the chosen action takes.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) return;
  var pageBox = document.getElementById("bulk-select-page");
  var allMatching = document.getElementById("bulk-all-matching");
  var action = document.getElementById("bulk-action");
  var status = document.getElementById("bulk-selected");
  var rows = Array.prototype.slice.call(document.querySelectorAll("input.bulk-row[form='bulk-form']"));

  function checked() {
    return rows.filter(function (box) { return box.checked; }).length;
  }

  function update() {
    var matching = allMatching && allMatching.checked;
    var count = checked();
    rows.forEach(function (box) { box.disabled = matching; });
    if (pageBox) {
      pageBox.disabled = matching;
      pageBox.checked = matching || (count > 0 && count === rows.length);
      pageBox.indeterminate = !matching && count > 0 && count < rows.length;
    }
    status.textContent = matching ? "All matching rows selected" : count + " selected";
  }

  function showArgument() {
    var chosen = action.options[action.selectedIndex];
    var wanted = chosen ? chosen.getAttribute("data-argument") : null;
    form.querySelectorAll(".bulk-argument").forEach(function (box) {
      var shown = box.getAttribute("data-argument") === wanted;
      box.hidden = !shown;
      box.querySelectorAll("input").forEach(function (input) { input.disabled = !shown; });
    });
  }

  if (pageBox) {
    pageBox.addEventListener("change", function () {
      rows.forEach(function (box) { box.checked = pageBox.checked; });
      update();
    });
  }
  rows.forEach(function (box) { box.addEventListener("change", update); });
  if (allMatching) allMatching.addEventListener("change", update);
  action.addEventListener("change", showArgument);
  showArgument();
  update();
})();
