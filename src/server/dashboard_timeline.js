/* The finality chart of the built-in dashboard, appended to dashboard.html by
   dashboard.rs in a script element of its own, after the page's main script, whose
   helpers it uses ($, el, svg, text, isNum, numOr, clock, span).

   Finality over time, from api/timeline: the agreed finalized slot as a wide band, each
   upstream's finalized slot as a line (its head dashed, when shown). Where an upstream
   lagged its line is overdrawn in the warning colour, where it sat on a minority root in
   the error colour; upstreams lagging or minority now are drawn thick and on top. Red
   ticks at the bottom are failed polls. */
const TL = {h: 300, l: 46, r: 14, t: 12, b: 24, minWindow: 10000};
let lastTimeline = null, timelineRound = null;
function hue(i) { return "hsl(" + (170 + (i * 53) % 160) + " 60% 45%)"; }
function highlighted(st) { return st === "lagging" || st === "minority"; }
function standingLabel(u) {
  return u.standing === "lagging" ? "lagging " + numOr(u.lag_slots, "?") : String(u.standing || "unknown");
}
function standingMap(tl) {
  const list = Array.isArray(tl.upstreams) ? tl.upstreams : [];
  return new Map(list.map((u) => [String(u.name), {standing: String(u.standing || "unknown"), lag_slots: u.lag_slots}]));
}
function niceStep(range, n) {
  const raw = Math.max(1, range / n);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}
function pointsOf(list, key, x, y) {
  const pts = [];
  for (const s of list) if (s && isNum(s.t) && isNum(s[key])) pts.push(x(s.t).toFixed(1) + "," + y(s[key]).toFixed(1));
  return pts.join(" ");
}
function lastOf(list, key) {
  for (let i = list.length - 1; i >= 0; i--) if (list[i] && isNum(list[i][key])) return list[i][key];
  return null;
}
function samplesOf(u) { return Array.isArray(u.samples) ? u.samples : []; }
/* Time and slot ranges of everything drawn. */
function timelineBounds(tl, ups, agreed, heads) {
  const b = {t0: Infinity, t1: isNum(tl.now_ms) ? tl.now_ms : -Infinity, lo: Infinity, hi: -Infinity, first: Infinity};
  const see = (s, keys) => {
    if (!s || !isNum(s.t)) return;
    b.t0 = Math.min(b.t0, s.t); b.t1 = Math.max(b.t1, s.t);
    for (const k of keys) if (isNum(s[k])) { b.lo = Math.min(b.lo, s[k]); b.hi = Math.max(b.hi, s[k]); }
  };
  for (const a of agreed) see(a, ["finalized"]);
  for (const u of ups) for (const s of samplesOf(u)) see(s, heads ? ["finalized", "head"] : ["finalized"]);
  if (!isFinite(b.t0) || !isFinite(b.lo)) return null;
  b.first = b.t0;
  b.t0 = Math.min(b.t0, b.t1 - TL.minWindow);
  b.lo = Math.max(0, b.lo - 1); b.hi = Math.max(b.hi + 1, b.lo + 4);
  return b;
}
function drawAxes(root, b, x, y, W, H) {
  const g = svg("g", {class: "axes"}, root);
  const step = niceStep(b.hi - b.lo, 5);
  for (let v = Math.ceil(b.lo / step) * step; v <= b.hi; v += step) {
    const gy = y(v).toFixed(1);
    svg("line", {class: "grid", x1: TL.l, x2: W - TL.r, y1: gy, y2: gy}, g);
    svg("text", {x: TL.l - 6, y: (y(v) + 3).toFixed(1), "text-anchor": "end"}, g).textContent = String(v);
  }
  for (let i = 0; i <= 4; i++) {
    const t = b.t0 + (b.t1 - b.t0) * i / 4;
    svg("text", {x: x(t).toFixed(1), y: H - 7, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle"}, g).textContent = clock(t);
  }
}
function drawSeries(u, i, ctx) {
  const samples = samplesOf(u), name = String(u.name), color = hue(i);
  const st = String(u.standing || "unknown");
  const pt = (s, key) => ctx.x(s.t).toFixed(1) + "," + ctx.y(s[key]).toFixed(1);
  if (ctx.heads) svg("polyline", {class: "head", points: pointsOf(samples, "head", ctx.x, ctx.y), stroke: color, "data-head-of": name}, ctx.lines);
  const line = svg("polyline", {class: "series " + st, points: pointsOf(samples, "finalized", ctx.x, ctx.y), stroke: color,
    "data-upstream": name, "data-last": numOr(lastOf(samples, "finalized"), ""), "data-standing": st}, ctx.lines);
  svg("title", {}, line).textContent = name + ": " + standingLabel(u);
  // Runs of samples that lagged or sat on a minority root, over the line.
  let run = [], kind = null, since = null;
  const flush = () => {
    if (run.length) {
      if (run.length === 1) run.push(run[0]);
      const r = svg("polyline", {class: "run " + kind, points: run.join(" "), "data-of": name}, ctx.marks);
      svg("title", {}, r).textContent = name + ": " + (kind === "minority" ? "on a minority root" : "lagging") + " from " + clock(since);
    }
    run = []; kind = null;
  };
  for (const s of samples) {
    if (!s || !isNum(s.t)) continue;
    const k = highlighted(s.standing) && isNum(s.finalized) ? s.standing : null;
    if (k !== kind) flush();
    if (k) { if (!run.length) since = s.t; kind = k; run.push(pt(s, "finalized")); }
    if (typeof s.error === "string") {
      const ex = ctx.x(s.t).toFixed(1);
      const e = svg("line", {class: "mark error", x1: ex, x2: ex, y1: ctx.bottom, y2: ctx.bottom - 7, "data-of": name}, ctx.marks);
      svg("title", {}, e).textContent = name + ": " + s.error + ", " + clock(s.t);
    }
  }
  flush();
}
function legendItem(key, swatch, label) {
  const li = el("span", null, "li");
  li.setAttribute("data-legend", key);
  li.appendChild(swatch);
  li.appendChild(document.createTextNode(label));
  return li;
}
function renderLegend(ups, agreed, heads) {
  const items = [legendItem("agreed", el("i", null, "sw agreed"), "agreed finalized " + numOr(lastOf(agreed, "finalized"), "–"))];
  ups.forEach((u, i) => {
    const st = String(u.standing || "unknown");
    const sw = el("i", null, highlighted(st) ? "sw " + st : "sw");
    if (!highlighted(st)) sw.style.background = hue(i);
    const li = legendItem(String(u.name), sw, String(u.name) + " " + numOr(u.finalized, "–") + " ");
    li.setAttribute("data-standing", st);
    if (st !== "agreeing") li.appendChild(el("b", standingLabel(u), st === "minority" ? "badge bad" : st === "lagging" ? "badge warn" : "badge"));
    items.push(li);
  });
  if (heads) items.push(legendItem("head", el("i", null, "sw head"), "head slot"));
  items.push(legendItem("lagging", el("i", null, "sw lagging"), "lagging"));
  items.push(legendItem("minority-root", el("i", null, "sw minority"), "on a minority root"));
  items.push(legendItem("failed", el("i", null, "tick"), "poll failed"));
  $("timeline-legend").replaceChildren(...items);
}
function renderTimeline(tl) {
  lastTimeline = tl;
  const root = $("timeline-svg");
  const ups = Array.isArray(tl.upstreams) ? tl.upstreams : [];
  const agreed = Array.isArray(tl.agreed) ? tl.agreed : [];
  const heads = $("tl-heads").checked;
  const W = Math.max(320, Math.round($("tl-wrap").clientWidth || 1200)), H = TL.h;
  root.setAttribute("viewBox", "0 0 " + W + " " + H);
  root.setAttribute("height", H);
  root.setAttribute("data-now", numOr(tl.now_ms, ""));
  root.replaceChildren();
  const b = timelineBounds(tl, ups, agreed, heads);
  if (!b) {
    text("timeline-summary", "no round completed yet");
    $("timeline-legend").replaceChildren();
    return;
  }
  const pw = W - TL.l - TL.r, ph = H - TL.t - TL.b;
  const x = (t) => TL.l + (t - b.t0) / (b.t1 - b.t0) * pw;
  const y = (v) => TL.t + (b.hi - v) / (b.hi - b.lo) * ph;
  drawAxes(root, b, x, y, W, H);
  const band = svg("polyline", {class: "agreed", points: pointsOf(agreed, "finalized", x, y),
    "data-upstream": "agreed", "data-last": numOr(lastOf(agreed, "finalized"), "")}, root);
  svg("title", {}, band).textContent = "agreed finalized slot";
  const ctx = {x, y, heads, bottom: H - TL.b, lines: svg("g", {}, root), marks: svg("g", {}, root)};
  // Highlighted series last, so that they are drawn on top.
  const order = ups.map((u, i) => [u, i]);
  order.sort((p, q) => Number(highlighted(p[0].standing)) - Number(highlighted(q[0].standing)));
  for (const [u, i] of order) drawSeries(u, i, ctx);
  renderLegend(ups, agreed, heads);
  const named = (st) => ups.filter((u) => u.standing === st).map((u) => String(u.name));
  const lagging = named("lagging"), minority = named("minority");
  text("timeline-summary", agreed.length + " rounds over " + span(b.t1 - b.first) +
    (lagging.length ? " · lagging: " + lagging.join(", ") : "") +
    (minority.length ? " · minority: " + minority.join(", ") : "") +
    (lagging.length || minority.length ? "" : " · all agree"));
}
$("tl-heads").addEventListener("change", () => { if (lastTimeline) renderTimeline(lastTimeline); });
window.addEventListener("resize", () => { if (lastTimeline) renderTimeline(lastTimeline); });
