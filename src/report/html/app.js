/* recpipe-dse interactive report: draws the JSON embedded in #report-data as a
   header, a filter bar, scatter plots (inline SVG), a sortable points table,
   the SLA comparison and the hypervolume progress. No libraries, no network. */
(function () {
  "use strict";

  // ---------- helpers ----------

  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  const $ = (id) => document.getElementById(id);
  const isNum = (v) => typeof v === "number" && isFinite(v);
  const DASH = "–";
  const collator = new Intl.Collator("en", { numeric: true });
  const grouped = (n) => (isNum(n) ? n.toLocaleString("en-US") : DASH);

  // A value to 4 significant digits; exponent form for very large or small magnitudes.
  function fmt4(v) {
    if (!isNum(v)) return DASH;
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 999950 || a < 1e-3) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }

  // Axis tick label: k / M suffix from `mag`, just enough decimals for `step`.
  function tickLabel(v, step, mag) {
    const [div, suffix] = mag >= 1e6 ? [1e6, "M"] : mag >= 1e4 ? [1e3, "k"] : [1, ""];
    const dec = Math.max(0, Math.min(8, -Math.floor(Math.log10(step / div) + 1e-9)));
    return (v / div).toFixed(dec) + suffix;
  }

  // 1-2-5 step giving about `count` intervals over `span`.
  function niceStep(span, count) {
    const raw = span / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const n = raw / mag;
    return (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * mag;
  }

  // Scale of `vals` onto pixels [r0, r1]; `extra` values are kept in view
  // (the SLA line) but do not decide linear vs log. With `wantLog` undefined the
  // axis is log when all values are > 0 and max/min >= 1000; true / false force
  // it (log still needs values > 0). Returns {map, ticks: [{v, label, minor}], log}.
  function makeScale(vals, extra, r0, r1, wantLog) {
    let lo = Infinity, hi = -Infinity;
    for (const v of vals) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const log = vals.length > 0 && lo > 0 && (wantLog === undefined ? hi / lo >= 1000 : wantLog);
    for (const v of extra) {
      if (!isNum(v) || (log && v <= 0)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (log) {
      if (lo === hi) {
        lo /= 2;
        hi *= 2;
      }
      const pad = (Math.log10(hi) - Math.log10(lo)) * 0.04;
      const a = Math.log10(lo) - pad, b = Math.log10(hi) + pad;
      // Decades; 2 and 5 between them (labelled below 3 decades); more under 1.5 decades.
      const ticks = [];
      for (let k = Math.floor(a); k <= Math.ceil(b); k++) {
        for (const m of b - a < 1.5 ? [1, 2, 3, 5, 7] : [1, 2, 5]) {
          const v = m * Math.pow(10, k), lv = Math.log10(v);
          if (lv < a || lv > b) continue;
          const labelled = m === 1 || b - a < 3;
          ticks.push({ v, minor: !labelled, label: labelled ? tickLabel(v, v, v) : "" });
        }
      }
      return { log, ticks, map: (v) => r0 + ((Math.log10(v) - a) / (b - a)) * (r1 - r0) };
    }
    if (lo === hi) {
      const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
    // A little room around the data, without crossing zero.
    const pad = (hi - lo) * 0.02;
    const lo2 = lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi2 = hi <= 0 ? Math.min(0, hi + pad) : hi + pad;
    const step = niceStep(hi2 - lo2, 6);
    const a = Math.floor(lo2 / step) * step, b = Math.ceil(hi2 / step) * step;
    const mag = Math.max(Math.abs(a), Math.abs(b));
    const ticks = [];
    for (let i = 0; i <= Math.round((b - a) / step); i++) {
      const v = Math.round((a + i * step) / step) * step;
      ticks.push({ v, minor: false, label: tickLabel(v, step, mag) });
    }
    return { log, ticks, map: (v) => r0 + ((v - a) / (b - a)) * (r1 - r0) };
  }

  // Grid, ticks and axis labels for scales xs / ys in a box g = {w, h, l, r, t, b}.
  function axesSvg(xs, ys, xLabel, yLabel, g) {
    const x0 = g.l, x1 = g.w - g.r, y0 = g.h - g.b, y1 = g.t;
    let s = "";
    for (const t of xs.ticks) {
      const x = xs.map(t.v).toFixed(1);
      s += `<line class="gl${t.minor ? " minor" : ""}" x1="${x}" x2="${x}" y1="${y1}" y2="${y0}"/>`;
      if (t.label) s += `<text class="tick" x="${x}" y="${y0 + 15}" text-anchor="middle">${t.label}</text>`;
    }
    for (const t of ys.ticks) {
      const y = ys.map(t.v).toFixed(1);
      s += `<line class="gl${t.minor ? " minor" : ""}" x1="${x0}" x2="${x1}" y1="${y}" y2="${y}"/>`;
      if (t.label) s += `<text class="tick" x="${x0 - 6}" y="${y}" dy="0.32em" text-anchor="end">${t.label}</text>`;
    }
    s += `<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/>`;
    s += `<text class="axis-label" x="${(x0 + x1) / 2}" y="${g.h - 6}" text-anchor="middle">${esc(xLabel)}${xs.log ? " (log)" : ""}</text>`;
    s += `<text class="axis-label" transform="translate(13 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}${ys.log ? " (log)" : ""}</text>`;
    return s;
  }

  // ---------- data ----------

  const data = JSON.parse($("report-data").textContent);
  const points = data.points || [];
  const byId = new Map(points.map((p) => [String(p.id), p]));
  const feasibleCount = points.filter((p) => p.feasible).length;
  const frontCount = points.filter((p) => p.front_rank === 0).length;
  const metricNames = data.metrics || [];
  const figures = data.figures || [];
  // `reproduce` pages carry figures and no points: they show no exploration sections.
  const exploration = points.length > 0 || figures.length === 0;

  // Distinct values of a field with their counts, in the given order.
  function distinct(key, order) {
    const counts = new Map();
    for (const p of points) counts.set(p[key], (counts.get(p[key]) || 0) + 1);
    return [...counts.keys()].sort(order).map((v) => ({ value: v, count: counts.get(v) }));
  }
  const backendList = distinct("backends", (a, b) => a.split(",").length - b.split(",").length || collator.compare(a, b));
  const stageList = distinct("stages", (a, b) => a - b);

  // One colour per backend mapping, fixed for the whole page.
  const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2",
    "#edc948", "#9c755f", "#ff9da7", "#8cd17d", "#d37295", "#a0a0a0"];
  const colour = new Map(backendList.map((b, i) =>
    [b.value, i < PALETTE.length ? PALETTE[i] : `hsl(${(i * 137.5) % 360} 55% 48%)`]));
  const swatch = (b) => `<span class="swatch" style="background:${colour.get(b)}"></span>`;

  const state = {
    backends: new Set(backendList.map((b) => b.value)),
    stages: new Set(stageList.map((s) => s.value)),
    // With nothing feasible the default view would be empty: show every point instead.
    mode: feasibleCount > 0 ? "feasible" : "all",
    selected: null, // id (string) of the point picked in a plot or the table
  };

  function filtered() {
    return points.filter((p) => state.backends.has(p.backends) && state.stages.has(p.stages) &&
      (state.mode === "all" || (state.mode === "front" ? p.front_rank === 0 : p.feasible)));
  }

  // ---------- header ----------

  function renderHeader() {
    const run = data.run || {}, counts = run.counts || {}, space = data.space, sla = data.sla;
    const loads = (data.loads_qps || []).map(fmt4).join(", ");
    const facts = [
      space ? `space <b>${esc(space.file || space.name)}</b>` + (isNum(space.points) ? ` (${grouped(space.points)} designs)` : "") : "",
      sla ? `SLA <b>${esc(sla.text)}</b>` : "",
      loads ? `loads <b>${loads}</b> q/s` : "",
    ].filter(Boolean);
    const reuse = [isNum(counts.reused) ? `${grouped(counts.reused)} reused` : "",
      isNum(counts.repeats) ? `${grouped(counts.repeats)} repeated asks` : ""].filter(Boolean).join(", ");
    const objectives = (data.objectives || []).map((o) =>
      `<span class="objective">${o.direction === "minimize" ? "↓" : "↑"} ${esc(o.direction)} <b>${esc(o.metric)}</b></span>`).join(" ");
    const tally = !exploration ? [] : [
      `<b>${grouped(isNum(counts.evaluated) ? counts.evaluated : points.length)}</b> points evaluated` + (reuse ? ` (${reuse})` : ""),
      `<b>${grouped(feasibleCount)}</b> feasible`,
      `<b>${grouped(frontCount)}</b> on the Pareto front`,
      objectives ? `objectives ${objectives}` : "",
    ].filter(Boolean);
    const small = [
      run.command ? `<code>${esc(run.command)}</code>` : "",
      run.strategy ? `strategy ${esc(run.strategy)}` : "",
      isNum(run.search_seed) ? `search seed ${run.search_seed}` : "",
      isNum(run.sim_seed) ? `simulation seed ${run.sim_seed}` : "",
      run.started_utc ? `started ${esc(run.started_utc)}` : "",
      run.versions ? esc(run.versions) : "",
      run.host ? `host ${esc(run.host)}` : "",
    ].filter(Boolean).join(" · ");
    const line = (items) => (items.length ? `<p class="facts">${items.map((x) => `<span>${x}</span>`).join("")}</p>` : "");
    const notes = data.notes || [];
    $("header").innerHTML = `<h1>${esc(data.title || "Design-space exploration")}</h1>` + line(facts) + line(tally) +
      (small ? `<p class="small">${small}</p>` : "") +
      (notes.length ? `<details class="notes"><summary>Notes (${notes.length})</summary>` +
        `<ul>${notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul></details>` : "");
  }

  // ---------- filters ----------

  function renderFilters() {
    const box = (kind, value, label, count) =>
      `<label class="check"><input type="checkbox" data-kind="${kind}" value="${esc(value)}" checked>` +
      `${label} <span class="count">${grouped(count)}</span></label>`;
    const mode = (value, label) =>
      `<option value="${value}"${state.mode === value ? " selected" : ""}>${esc(label)}</option>`;
    $("filters").innerHTML =
      `<fieldset><legend>Backends <button type="button" data-all="1">all</button>` +
      `<button type="button" data-all="0">none</button></legend>` +
      backendList.map((b) => box("backends", b.value, swatch(b.value) + esc(b.value), b.count)).join("") +
      `</fieldset><fieldset><legend>Stages</legend>` +
      stageList.map((s) => box("stages", s.value, `${s.value} stage${s.value === 1 ? "" : "s"}`, s.count)).join("") +
      `</fieldset><fieldset><legend>Show</legend><select id="mode">` +
      mode("feasible", "feasible points") + mode("front", "Pareto front only") +
      mode("all", "all points (table only: infeasible points have no metrics to plot)") +
      `</select></fieldset><p id="filter-status" class="status" aria-live="polite"></p>`;
    $("filters").addEventListener("change", (e) => {
      const el = e.target;
      if (el.id === "mode") state.mode = el.value;
      else if (el.dataset.kind === "backends") toggle(state.backends, el.value, el.checked);
      else if (el.dataset.kind === "stages") toggle(state.stages, Number(el.value), el.checked);
      update();
    });
    $("filters").addEventListener("click", (e) => {
      const btn = e.target.closest("button[data-all]");
      if (!btn) return;
      const on = btn.dataset.all === "1";
      for (const el of $("filters").querySelectorAll('input[data-kind="backends"]')) {
        el.checked = on;
        toggle(state.backends, el.value, on);
      }
      update();
    });
  }

  function toggle(set, value, on) {
    if (on) set.add(value);
    else set.delete(value);
  }

  // ---------- scatter plots ----------

  const PLOT = { w: 560, h: 380, l: 62, r: 14, t: 14, b: 44 };
  const plots = data.plots || [];

  function renderPlotCards() {
    const host = $("plots");
    if (feasibleCount === 0) {
      const sla = data.sla && data.sla.text ? ` ${esc(data.sla.text)}` : "";
      host.innerHTML = `<p class="none"><strong>No feasible point: ` + (points.length === 0
        ? "the run evaluated no design, so there is nothing to plot."
        : `none of the ${grouped(points.length)} evaluated designs meets the SLA${sla} (or could be measured), ` +
          "so there is nothing to plot; the points table gives the reason for each.") + `</strong></p>`;
      return;
    }
    if (plots.length === 0) {
      host.innerHTML = `<p class="none"><strong>No plot: this run has none of the plotted metrics.</strong></p>`;
      return;
    }
    host.classList.add("grid");
    host.innerHTML = plots.map((p, i) =>
      `<figure class="card plot" id="plot-${esc(p.id)}"><figcaption>${esc(p.title)}</figcaption>` +
      `<div class="plot-svg" data-plot="${i}"></div><div class="legend"></div></figure>`).join("");
    host.addEventListener("mouseover", hover);
    host.addEventListener("mousemove", hover);
    host.addEventListener("mouseleave", hideTip);
    host.addEventListener("click", (e) => {
      const mark = e.target.closest(".pt");
      if (mark) select(mark.dataset.id, true);
    });
  }

  // Redraws every plot from `list`; returns the set of point ids drawn.
  function renderPlots(list) {
    const drawn = new Set();
    const feasible = list.filter((p) => p.feasible);
    for (const holder of document.querySelectorAll("#plots .plot-svg")) {
      const plot = plots[Number(holder.dataset.plot)];
      const pts = feasible.filter((p) => isNum(p.metrics[plot.x]) && isNum(p.metrics[plot.y]));
      holder.innerHTML = scatterSvg(plot, pts);
      for (const p of pts) drawn.add(p.id);
      holder.nextElementSibling.innerHTML = legendHtml(plot, pts);
    }
    return drawn;
  }

  function scatterSvg(plot, pts) {
    const g = PLOT;
    const xs = makeScale(pts.map((p) => p.metrics[plot.x]), [plot.sla_x], g.l, g.w - g.r);
    const ys = makeScale(pts.map((p) => p.metrics[plot.y]), [], g.h - g.b, g.t);
    let s = `<svg class="scatter" viewBox="0 0 ${g.w} ${g.h}" role="img" aria-label="${esc(plot.title)}">`;
    s += axesSvg(xs, ys, plot.x_label, plot.y_label, g);
    if (isNum(plot.sla_x) && (!xs.log || plot.sla_x > 0)) {
      const x = xs.map(plot.sla_x).toFixed(1);
      const right = Number(x) > g.w * 0.75;
      s += `<line class="sla" x1="${x}" x2="${x}" y1="${g.t}" y2="${g.h - g.b}"/>` +
        `<text class="sla-label" x="${right ? Number(x) - 5 : Number(x) + 5}" y="${g.t + 14}" ` +
        `text-anchor="${right ? "end" : "start"}">SLA ${esc((data.sla && data.sla.text) || plot.sla_x)}</text>`;
    }
    if (!pts.length) {
      s += `<text class="empty" x="${(g.l + g.w - g.r) / 2}" y="${(g.t + g.h - g.b) / 2}" text-anchor="middle">no point matches the filters</text>`;
    }
    // Ordinary points first so that the Pareto front is drawn on top.
    let back = "", front = "";
    for (const p of pts) {
      const onFront = p.front_rank === 0;
      const sel = String(p.id) === state.selected ? " sel" : "";
      const mark = `<circle class="pt${onFront ? " front" : ""}${sel}" data-id="${esc(p.id)}" ` +
        `cx="${xs.map(p.metrics[plot.x]).toFixed(1)}" cy="${ys.map(p.metrics[plot.y]).toFixed(1)}" ` +
        `r="${onFront ? 5 : 3}" fill="${colour.get(p.backends)}"/>`;
      if (onFront) front += mark;
      else back += mark;
    }
    return s + back + front + "</svg>";
  }

  function legendHtml(plot, pts) {
    const present = new Set(pts.map((p) => p.backends));
    const items = backendList.filter((b) => present.has(b.value))
      .map((b) => `<span class="item">${swatch(b.value)}${esc(b.value)}</span>`);
    if (pts.some((p) => p.front_rank === 0)) items.push(`<span class="item"><span class="front-mark"></span>Pareto front</span>`);
    if (isNum(plot.sla_x)) items.push(`<span class="item"><span class="sla-mark"></span>SLA</span>`);
    items.push(`<span class="item count">${grouped(pts.length)} points</span>`);
    return items.join("");
  }

  // ---------- tooltip ----------

  const tip = $("tooltip");
  let tipId = null;

  function hover(e) {
    const mark = e.target.closest(".pt");
    if (!mark) return hideTip();
    if (mark.dataset.id !== tipId) {
      tipId = mark.dataset.id;
      tip.innerHTML = designHtml(byId.get(tipId));
      tip.hidden = false;
    }
    // Keep the tooltip inside the window, flipping it to the other side of the pointer.
    const w = tip.offsetWidth, h = tip.offsetHeight;
    let x = e.clientX + 14, y = e.clientY + 14;
    if (x + w > window.innerWidth - 6) x = Math.max(6, e.clientX - 14 - w);
    if (y + h > window.innerHeight - 6) y = Math.max(6, window.innerHeight - 6 - h);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  function hideTip() {
    tip.hidden = true;
    tipId = null;
  }

  // The full design of a point: stages, front rank and every metric.
  function designHtml(p) {
    const rank = p.front_rank === 0 ? "0 (Pareto front)" : p.front_rank == null ? DASH : String(p.front_rank);
    const stages = (p.design || []).map((d, i) =>
      `<tr><td>${i + 1}</td><td>${esc(d.model)}</td><td class="num">${esc(d.items)}</td>` +
      `<td>${esc(d.hardware)}</td><td class="source">${esc(d.source || DASH)}</td></tr>`).join("");
    const names = metricNames.filter((m) => m in p.metrics)
      .concat(Object.keys(p.metrics).filter((m) => !metricNames.includes(m)));
    const metrics = names.map((m) => `<span>${esc(m)}</span><b>${fmt4(p.metrics[m])}</b>`).join("");
    return `<div class="tip-head">id ${esc(p.id)} · ${esc(p.pipeline)}</div>` +
      `<div>${swatch(p.backends)}backends <b>${esc(p.backends)}</b> · front rank <b>${rank}</b>` +
      (p.feasible ? "" : ` · <b>infeasible</b>: ${esc(p.reason || DASH)}`) + `</div>` +
      `<table class="tip-stages"><tr><th>#</th><th>model</th><th>items</th><th>hardware</th><th>source</th></tr>${stages}</table>` +
      (metrics ? `<div class="tip-metrics">${metrics}</div>` : "");
  }

  // ---------- sortable tables ----------

  // A table sorted by clicking a header (asc, then desc); missing values last.
  // Columns: {label, unit (second header line), get(row) -> number | string | null,
  // cell(row) -> HTML, num, wrap}.
  class SortTable {
    constructor(host, columns, opts) {
      this.host = host;
      this.columns = columns;
      this.limit = opts.limit || Infinity;
      this.noun = opts.noun;
      this.rowId = opts.rowId || null;
      this.sortCol = opts.sortCol || 0;
      this.desc = false;
      this.rows = [];
      this.selected = null;
      host.addEventListener("click", (e) => {
        const th = e.target.closest("th[data-col]");
        if (th) {
          const col = Number(th.dataset.col);
          this.desc = col === this.sortCol ? !this.desc : false;
          this.sortCol = col;
          this.render();
        } else if (opts.onRowClick) {
          const tr = e.target.closest("tr[data-id]");
          if (tr) opts.onRowClick(tr.dataset.id);
        }
      });
    }

    setRows(rows) {
      this.rows = rows;
      this.render();
    }

    sorted() {
      const get = this.columns[this.sortCol].get, dir = this.desc ? -1 : 1;
      const keyed = this.rows.map((row, i) => ({ row, i, k: get(row) }));
      keyed.sort((a, b) => {
        const am = a.k == null, bm = b.k == null;
        if (am || bm) return am === bm ? a.i - b.i : am ? 1 : -1;
        const c = typeof a.k === "number" && typeof b.k === "number" ? a.k - b.k : collator.compare(String(a.k), String(b.k));
        return c * dir || a.i - b.i;
      });
      return keyed.map((x) => x.row);
    }

    render() {
      const order = this.sorted();
      const shown = order.slice(0, this.limit);
      // A selected row beyond the limit is pinned above the others.
      const id = (r) => String(this.rowId(r));
      let pinned = null;
      if (this.rowId && this.selected != null && !shown.some((r) => id(r) === this.selected)) {
        pinned = order.find((r) => id(r) === this.selected) || null;
        if (pinned) shown.unshift(pinned);
      }
      const col = this.columns[this.sortCol];
      const by = `sorted by ${col.label}${col.unit ? " " + col.unit : ""}, ${this.desc ? "descending" : "ascending"}`;
      let note = order.length > this.limit
        ? `showing ${grouped(this.limit)} of ${grouped(order.length)} ${this.noun} (${esc(by)})`
        : `${grouped(order.length)} ${this.noun} (${esc(by)})`;
      if (pinned) note += "; the selected point is pinned at the top";
      const head = this.columns.map((c, i) => {
        const sorted = i === this.sortCol;
        const aria = sorted ? ` aria-sort="${this.desc ? "descending" : "ascending"}"` : "";
        return `<th data-col="${i}" class="${c.num ? "num" : ""}${sorted ? " sorted" : ""}"${aria}>` +
          `<button type="button">${esc(c.label)}${c.unit ? `<small>${esc(c.unit)}</small>` : ""}<span class="arrow">${sorted ? (this.desc ? "▼" : "▲") : ""}</span></button></th>`;
      }).join("");
      const body = shown.map((r) => {
        const rid = this.rowId ? id(r) : null;
        const cls = rid !== null && rid === this.selected ? ' class="sel"' : "";
        return `<tr${rid !== null ? ` data-id="${esc(rid)}"` : ""}${cls}>` +
          this.columns.map((c) => `<td${c.num ? ' class="num"' : c.wrap ? ' class="wrap"' : ""}>${c.cell(r)}</td>`).join("") + "</tr>";
      }).join("");
      this.host.innerHTML = `<p class="note">${note}</p><div class="table-wrap"><table class="data">` +
        `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
    }

    // Marks the row of `id` as selected; returns it (null when not rendered).
    select(id) {
      this.selected = id;
      let tr = this.host.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      if (!tr) {
        this.render();
        tr = this.host.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      }
      for (const el of this.host.querySelectorAll("tr.sel")) el.classList.remove("sel");
      if (tr) tr.classList.add("sel");
      return tr;
    }
  }

  // Column helpers: text or number cells, with the raw value as sort key.
  const textCol = (label, get) => ({ label, get, cell: (r) => { const v = get(r); return v == null ? DASH : esc(v); } });
  const numCol = (label, get, show = fmt4, unit = "") => ({ label, unit, get, num: true, cell: (r) => show(get(r)) });
  const plainNum = (v) => (isNum(v) ? esc(v) : DASH);
  // Long free text, wrapped within a bounded width.
  const longCol = (label, get) => ({ label, get, cell: (r) => `<div class="long">${esc(get(r) == null ? DASH : get(r))}</div>` });
  // Text that may wrap only between its parts (stages joined by " > " or " + ").
  const partsCol = (label, get, sep) => ({ label, get, wrap: true, cell: (r) => {
    const v = get(r);
    return v == null ? DASH : String(v).split(sep).map((x) => `<span class="nw">${esc(x)}</span>`).join(esc(sep));
  } });

  const pointsTable = new SortTable($("points-table"), [
    numCol("id", (p) => p.id, plainNum),
    textCol("pipeline", (p) => p.pipeline),
    { label: "backends", get: (p) => p.backends, cell: (p) => swatch(p.backends) + esc(p.backends) },
    numCol("stages", (p) => p.stages, plainNum),
    textCol("feasible", (p) => (p.feasible ? "yes" : "no")),
    numCol("front rank", (p) => p.front_rank, plainNum),
    { label: "reason", get: (p) => p.reason, cell: (p) => (p.reason ? `<span class="reason" title="${esc(p.reason)}">${esc(p.reason)}</span>` : DASH) },
    ...metricNames.map((m) => numCol(m, (p) => p.metrics[m])),
  ], { limit: 1000, noun: "points", rowId: (p) => p.id, sortCol: 5, onRowClick: (id) => select(id, false) });

  // Selects a point in every plot and in the points table.
  function select(id, scroll) {
    state.selected = id;
    for (const el of document.querySelectorAll("#plots .pt.sel")) el.classList.remove("sel");
    for (const el of document.querySelectorAll(`#plots .pt[data-id="${CSS.escape(id)}"]`)) {
      el.classList.add("sel");
      el.parentNode.appendChild(el); // on top of its neighbours
    }
    const tr = pointsTable.select(id);
    if (tr && scroll) tr.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  // ---------- comparison ----------

  function renderCompare() {
    const c = data.compare, host = $("compare");
    if (!c) {
      host.innerHTML = `<p>There is no comparison in this report (the run did not ask for one).</p>`;
      return;
    }
    if (!c.rows || c.rows.length === 0) {
      host.innerHTML = `<p><strong>No configuration meets the SLA at any load.</strong> (SLA ${esc(c.sla || DASH)})</p>`;
      return;
    }
    const ratio = (a, b) => (isNum(a) && isNum(b) && b > 0 ? a / b : null);
    const rows = c.rows.map((r, i) => Object.assign({ rank: i + 1 }, r,
      { per_w: ratio(r.capacity_qps, r.power_w), per_mm2: ratio(r.capacity_qps, r.area_mm2) }));
    const p95 = (i) => (r) => { const v = (r.p95_ms || [])[i]; return isNum(v) ? v : null; };
    const loads = c.loads_qps || [];
    const table = new SortTable(document.createElement("div"), [
      numCol("#", (r) => r.rank, plainNum),
      numCol("id", (r) => r.id, plainNum),
      partsCol("pipeline", (r) => r.pipeline, " > "),
      { label: "backends", get: (r) => r.backends, cell: (r) => (colour.has(r.backends) ? swatch(r.backends) : "") + esc(r.backends) },
      partsCol("hardware", (r) => r.hardware, " + "),
      numCol("capacity", (r) => r.capacity_qps, fmt4, "q/s"),
      ...loads.map((l, i) => numCol("p95 (ms)", p95(i), (v) => (isNum(v) ? fmt4(v) : "saturated"), `@${fmt4(l)} q/s`)),
      numCol(c.quality_name || "quality", (r) => r.quality),
      numCol("area", (r) => r.area_mm2, fmt4, "mm²"),
      numCol("power", (r) => r.power_w, fmt4, "W"),
      numCol("q/s", (r) => r.per_w, fmt4, "per W"),
      numCol("q/s", (r) => r.per_mm2, fmt4, "per mm²"),
    ], { noun: "configurations" });
    host.innerHTML = `<p>Configurations under the SLA <b>${esc(c.sla || DASH)}</b>, ranked best (highest capacity) first; ` +
      `a p95 of “saturated” means the load exceeds what the design can serve.</p>`;
    host.appendChild(table.host);
    table.setRows(rows);
  }

  // ---------- hypervolume ----------

  function renderHypervolume() {
    const hv = data.hypervolume, host = $("hypervolume");
    if (!hv) {
      host.innerHTML = `<p>No hypervolume: there are no feasible points.</p>`;
      return;
    }
    const objectives = data.objectives || [];
    const ref = (hv.reference || []).map((v, i) =>
      (objectives[i] ? esc(objectives[i].metric) + " " : "") + fmt4(v)).join(", ");
    let html = `<p>Hypervolume of the feasible points: <b class="big">${fmt4(hv.value)}</b>` +
      (ref ? ` <span class="small">(reference point ${ref}; maximised objectives negated)</span>` : "") + `</p>`;
    const prog = (hv.progress || []).filter((q) => isNum(q[0]) && isNum(q[1]));
    if (prog.length) {
      const g = { w: 560, h: 220, l: 62, r: 14, t: 12, b: 40 };
      const xs = makeScale(prog.map((q) => q[0]), [0], g.l, g.w - g.r);
      const ys = makeScale(prog.map((q) => q[1]), [], g.h - g.b, g.t);
      const xy = prog.map((q) => [xs.map(q[0]).toFixed(1), ys.map(q[1]).toFixed(1)]);
      html += `<svg class="hv-chart" viewBox="0 0 ${g.w} ${g.h}" role="img" aria-label="Hypervolume by points accepted">` +
        axesSvg(xs, ys, "points accepted", "hypervolume", g) +
        `<polyline class="hv-line" points="${xy.map((p) => p.join(",")).join(" ")}"/>` +
        xy.map((p, i) => `<circle class="hv-dot" cx="${p[0]}" cy="${p[1]}" r="2.5">` +
          `<title>${grouped(prog[i][0])} points accepted: ${fmt4(prog[i][1])}</title></circle>`).join("") + `</svg>`;
    }
    host.innerHTML = html;
  }

  // ---------- reproduce figures ----------

  const VERDICT_CLASS = { matches: "ok", differs: "bad" };
  const seriesColour = (i) => PALETTE[(Number(i) || 0) % PALETTE.length];

  // One section per paper figure: verdict counts, its plots and the published-vs-ours table.
  function renderFigures() {
    const host = $("figures");
    host.hidden = false;
    host.innerHTML = figures.map((f, i) => {
      const [match, differ, unchecked] = f.verdicts || [0, 0, 0];
      return `<section class="card figure" id="figure-${esc(f.id)}"><h2>${esc(f.id)}: ${esc(f.title)}</h2>` +
        `<p class="small">${esc(f.paper)}${f.description ? " · " + esc(f.description) : ""}</p>` +
        `<p class="verdicts"><span class="verdict ok">${grouped(match)} match</span>` +
        `<span class="verdict bad">${grouped(differ)} differ</span>` +
        `<span class="verdict">${grouped(unchecked)} not checked</span></p>` +
        `<div class="fig-plots">${(f.plots || []).map(figurePlotHtml).join("")}</div>` +
        `<div class="fig-table" data-figure="${i}"></div>` +
        ((f.notes || []).length ? `<ul class="small">${f.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "") +
        `</section>`;
    }).join("");
    for (const holder of host.querySelectorAll(".fig-table")) {
      const rows = (figures[Number(holder.dataset.figure)].comparisons || []).map((r, i) => Object.assign({ rank: i + 1 }, r));
      if (!rows.length) continue;
      const table = new SortTable(holder, [
        numCol("#", (r) => r.rank, plainNum),
        longCol("group", (r) => r.group),
        longCol("item", (r) => r.item),
        textCol("published", (r) => r.published),
        textCol("ours", (r) => r.ours),
        textCol("difference", (r) => r.difference),
        { label: "verdict", get: (r) => r.verdict,
          cell: (r) => `<span class="verdict ${VERDICT_CLASS[r.verdict] || ""}">${esc(r.verdict)}</span>` },
        longCol("detail", (r) => r.detail),
      ], { noun: "published numbers beside ours" });
      table.setRows(rows);
    }
  }

  // A figure plot: lines (series of markers or lines) or stacked bars, with its legend.
  function figurePlotHtml(fp) {
    const bars = fp.kind === "bars";
    const names = bars ? (fp.stacks || []).map((st) => st[0]) : (fp.series || []).map((se) => se.label);
    const legend = names.map((name, i) => {
      const se = bars ? null : fp.series[i];
      const mark = bars ? `<span class="swatch square" style="background:${seriesColour(i)}"></span>`
        : `<span class="series-mark ${esc(se.style)}" style="border-color:${seriesColour(se.color)}"></span>`;
      return `<span class="item">${mark}${esc(name)}</span>`;
    }).join("");
    return `<figure class="plot"><figcaption>${esc(fp.title)}</figcaption>` +
      (bars ? barsSvg(fp) : linesSvg(fp)) + `<div class="legend">${legend}</div></figure>`;
  }

  function linesSvg(fp) {
    const g = PLOT, series = fp.series || [];
    const all = [].concat(...series.map((se) => se.points));
    const xs = makeScale(all.map((p) => p[0]), [], g.l, g.w - g.r, !!fp.log_x);
    const ys = makeScale(all.map((p) => p[1]), [], g.h - g.b, g.t, !!fp.log_y);
    let s = `<svg viewBox="0 0 ${g.w} ${g.h}" role="img" aria-label="${esc(fp.title)}">` +
      axesSvg(xs, ys, fp.x_label, fp.y_label, g);
    for (const se of series) {
      const col = seriesColour(se.color);
      const xy = se.points.filter((p) => (!xs.log || p[0] > 0) && (!ys.log || p[1] > 0))
        .map((p) => [xs.map(p[0]).toFixed(1), ys.map(p[1]).toFixed(1), p]);
      const title = (q) => `<title>${esc(se.label)}: ${fmt4(q[0])}, ${fmt4(q[1])}</title>`;
      if (se.style === "markers") {
        s += xy.map((q) => `<circle class="fig-marker" cx="${q[0]}" cy="${q[1]}" r="4.5" stroke="${col}">${title(q[2])}</circle>`).join("");
      } else {
        s += `<polyline class="fig-line ${esc(se.style)}" stroke="${col}" points="${xy.map((q) => q[0] + "," + q[1]).join(" ")}"/>` +
          xy.map((q) => `<circle class="fig-dot" cx="${q[0]}" cy="${q[1]}" r="2.5" fill="${col}">${title(q[2])}</circle>`).join("");
      }
    }
    return s + "</svg>";
  }

  function barsSvg(fp) {
    const cats = fp.categories || [], stacks = fp.stacks || [];
    const g = Object.assign({}, PLOT, { b: 84 });
    const totals = cats.map((_, i) => stacks.reduce((t, st) => t + Math.max(0, st[1][i] || 0), 0));
    const ys = makeScale(totals.concat([0]), [], g.h - g.b, g.t, false);
    const band = (g.w - g.l - g.r) / Math.max(1, cats.length), width = band * 0.66;
    let s = `<svg viewBox="0 0 ${g.w} ${g.h}" role="img" aria-label="${esc(fp.title)}">` +
      axesSvg({ ticks: [], log: false }, ys, fp.x_label, fp.y_label, g);
    cats.forEach((cat, i) => {
      const x = g.l + band * i + (band - width) / 2;
      let acc = 0;
      stacks.forEach((st, k) => {
        const v = Math.max(0, st[1][i] || 0);
        const y0 = ys.map(acc), y1 = ys.map(acc + v);
        acc += v;
        s += `<rect class="bar" x="${x.toFixed(1)}" y="${y1.toFixed(1)}" width="${width.toFixed(1)}" ` +
          `height="${Math.max(0, y0 - y1).toFixed(1)}" fill="${seriesColour(k)}"><title>${esc(cat)}, ${esc(st[0])}: ${fmt4(v)}</title></rect>`;
      });
      const cx = (x + width / 2).toFixed(1), cy = g.h - g.b + 12;
      s += `<text class="tick" x="${cx}" y="${cy}" text-anchor="end" transform="rotate(-35 ${cx} ${cy})">${esc(cat)}</text>`;
    });
    return s + "</svg>";
  }

  // ---------- update and start-up ----------

  // Applies the filters to the plots and the points table, and refreshes the test hooks.
  function update() {
    hideTip();
    const list = filtered();
    const drawn = renderPlots(list);
    pointsTable.setRows(list);
    $("filter-status").textContent = `${grouped(list.length)} of ${grouped(points.length)} points match · ` +
      `${grouped(drawn.size)} drawn`;
    document.body.dataset.drawnPoints = String(drawn.size);
    document.body.dataset.feasiblePoints = String(feasibleCount);
  }

  renderHeader();
  if (exploration) {
    renderFilters();
    renderPlotCards();
    renderCompare();
    renderHypervolume();
    update();
    window.addEventListener("scroll", hideTip, { passive: true });
  } else {
    $("exploration").hidden = true;
    document.body.dataset.drawnPoints = "0";
    document.body.dataset.feasiblePoints = String(feasibleCount);
  }
  if (figures.length) renderFigures();
  document.body.dataset.ready = "1";
})();
