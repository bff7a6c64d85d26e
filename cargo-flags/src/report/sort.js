(() => {
  "use strict";
  const table = document.getElementById("flags");
  const body = table.tBodies[0];
  const heads = [...table.tHead.rows[0].cells].filter((th) => th.dataset.sort);
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const value = (row, key) =>
    key === "refs" ? Number(row.dataset.refs) : (row.dataset[key] || "").toLowerCase();
  function sortBy(key, descending) {
    const sign = descending ? -1 : 1;
    const rows = [...body.rows];
    rows.sort((a, b) => sign * cmp(value(a, key), value(b, key)) || cmp(a.dataset.name, b.dataset.name));
    body.append(...rows);
    for (const th of heads) {
      const state = th.dataset.sort === key ? (descending ? "descending" : "ascending") : "none";
      th.setAttribute("aria-sort", state);
    }
    document.body.dataset.sorted = (descending ? "-" : "") + key;
  }
  table.tHead.addEventListener("click", (event) => {
    const th = event.target.closest("th[data-sort]");
    if (!th) return;
    const descending = th.getAttribute("aria-sort") === "ascending";
    sortBy(th.dataset.sort, descending);
    try { history.replaceState(null, "", "#sort=" + (descending ? "-" : "") + th.dataset.sort); } catch (_) { /* file: URLs may refuse */ }
  });
  const wanted = /^#sort=(-?)([a-z]+)$/.exec(location.hash);
  if (wanted && heads.some((th) => th.dataset.sort === wanted[2])) sortBy(wanted[2], wanted[1] === "-");
})();
