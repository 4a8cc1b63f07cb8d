/* Sort and filter the console's tables, in the browser, with no build step.
 *
 * Every <table data-table> gets a filter box above it (rows whose text does not contain
 * what is typed are hidden; the count of rows shown is announced) and a button in each
 * column heading that sorts the body by that column, ascending then descending. A cell's
 * data-sort attribute, when present, is what it sorts by (cents, ISO times); otherwise its
 * text, as a number when it reads as one ($1,234.50, -3). Totals in <tfoot> stay put.
 * Without JavaScript the pages are the same tables, in the server's order: nothing here is
 * needed to read or change anything.
 */
(function () {
  "use strict";

  function valueOf(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var given = cell.getAttribute("data-sort");
    return given !== null ? given : cell.textContent.trim();
  }

  function asNumber(text) {
    var bare = text.replace(/^(over|short)\s+/i, "").replace(/[$,\s]/g, "");
    return /^[-+]?\d+(\.\d+)?$/.test(bare) ? parseFloat(bare) : null;
  }

  function compare(a, b) {
    var x = asNumber(a);
    var y = asNumber(b);
    if (x !== null && y !== null) { return x - y; }
    if (a === "" || a === "—") { return b === "" || b === "—" ? 0 : 1; }
    if (b === "" || b === "—") { return -1; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, index, heading) {
    var body = table.tBodies[0];
    var descending = heading.getAttribute("aria-sort") === "ascending";
    var headings = table.tHead.rows[0].cells;
    for (var i = 0; i < headings.length; i++) { headings[i].removeAttribute("aria-sort"); }
    heading.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, at) { row.setAttribute("data-order", String(at)); });
    rows.sort(function (r, s) {
      var order = compare(valueOf(r, index), valueOf(s, index));
      if (descending) { order = -order; }
      // equal cells keep the order they had: a second sort refines the first
      return order || Number(r.getAttribute("data-order")) - Number(s.getAttribute("data-order"));
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function filter(table, text, said) {
    var wanted = text.trim().toLowerCase();
    var rows = table.tBodies[0].rows;
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var keep = !wanted || rows[i].textContent.toLowerCase().indexOf(wanted) !== -1;
      rows[i].hidden = !keep;
      if (keep) { shown++; }
    }
    said.textContent = wanted ? shown + " of " + rows.length + " rows shown" : "";
  }

  function enhance(table, number) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var name = table.getAttribute("data-table") || String(number);
    var box = document.createElement("div");
    box.className = "table-filter";
    var label = document.createElement("label");
    label.htmlFor = "filter-" + name;
    label.textContent = "Filter rows";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "filter-" + name;
    input.autocomplete = "off";
    var said = document.createElement("span");
    said.setAttribute("role", "status");
    said.className = "hint";
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(said);
    var wrapper = table.parentElement && table.parentElement.classList.contains("scroll")
      ? table.parentElement : table;
    wrapper.parentNode.insertBefore(box, wrapper);
    input.addEventListener("input", function () { filter(table, input.value, said); });

    var headings = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headings, function (heading, index) {
      var title = heading.textContent.trim();
      if (!title) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = title;
      button.title = "Sort by " + title;
      heading.textContent = "";
      heading.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, index, heading); });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-table]"), enhance);
})();
