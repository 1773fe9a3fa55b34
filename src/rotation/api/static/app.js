/* rotation dashboard: vanilla JS over the REST API (/api/v1). No statistics here: every number
 * drawn comes from an API response; this file only reshapes JSON for plotly and tables.
 *
 * State lives in the URL hash: "#<page>?key=value&..." so a view can be shared and reloaded (and
 * back/forward step through views): baskets, the members picked per basket ("symbols", the RRG's
 * parameter), what the RRG plots ("rrg": both or members), dates, windows, benchmark, pair a/b.
 * Exposed for tests: window.ROTATION = {state, loads, errors, ready}.
 */
(function () {
  "use strict";

  const API = "/api/v1";
  const PAGES = ["overview", "rotation", "flows", "comovement", "macro", "events", "claims", "data"];
  const DEFAULTS = {
    start: "", end: "", frequency: "W", benchmark: "SPY", ratio_window: "12", momentum_window: "12",
    tail: "8", window: "13", a: "ai_compute", b: "crypto_majors", baskets: "ai_compute,crypto_majors",
    symbols: "", rrg: "both", as_of: "",
  };
  // the API's limit on names per list parameter (rotation.api._params.LIMITS["max_names"])
  const MAX_MEMBERS = 30;
  // Okabe-Ito colour-blind-safe palette, then plotly defaults unlike any of those (a chart of many picked
  // members must not draw two near-identical blues or oranges)
  const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#8c564b", "#9467bd", "#7f7f7f", "#bcbd22", "#17becf", "#e377c2"];
  const QUADRANT_FILL = {leading: "rgba(0,158,115,0.08)", weakening: "rgba(230,159,0,0.10)",
    lagging: "rgba(213,94,0,0.08)", improving: "rgba(0,114,178,0.08)"};

  const R = (window.ROTATION = {state: {}, page: "overview", loads: 0, errors: [], ready: false, universe: null});
  let inflight = 0;
  let generation = 0;  // a newer render makes older responses stale

  // ---------------------------------------------------------------- URL state
  function readState() {
    const h = location.hash.replace(/^#/, "");
    const [page, query] = h.split("?");
    const params = new URLSearchParams(query || "");
    const st = Object.assign({}, DEFAULTS);
    for (const k of Object.keys(DEFAULTS)) if (params.has(k)) st[k] = params.get(k);
    R.page = PAGES.includes(page) ? page : "overview";
    R.state = st;
    return st;
  }
  function writeState(st, page) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(st)) if (v !== "" && v !== DEFAULTS[k]) params.set(k, v);
    const q = params.toString();
    const h = "#" + (page || R.page) + (q ? "?" + q : "");
    if (location.hash !== h) location.hash = h;  // fires hashchange -> render
    else render();
  }

  // ---------------------------------------------------------------- API access
  function authHeaders() {
    // A token is needed only when the server binds a public address (see README); kept per browser.
    const t = window.localStorage && localStorage.getItem("rotation_token");
    return t ? {Authorization: "Bearer " + t} : {};
  }
  function describeError(status, body) {
    if (body && body.detail !== undefined) {
      const d = body.detail;
      if (typeof d === "string") return d;
      if (Array.isArray(d)) {
        return d.map(e => {
          const loc = Array.isArray(e.loc) ? e.loc.filter(x => x !== "query" && x !== "body").join(".") : "";
          return (loc ? loc + ": " : "") + (e.msg || JSON.stringify(e));
        }).join("; ");
      }
      return JSON.stringify(d);
    }
    if (body && body.message) return (body.parameter ? body.parameter + ": " : "") + body.message;
    return "HTTP " + status;
  }
  async function api(path, params, init) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
    const url = API + path + (q.toString() ? "?" + q : "");
    busy(+1);
    try {
      const res = await fetch(url, Object.assign({headers: authHeaders()}, init || {}));
      let body = null;
      try { body = await res.json(); } catch (e) { body = null; }
      if (!res.ok) {
        const err = new Error(path + ": " + describeError(res.status, body) + " (HTTP " + res.status + ")");
        err.status = res.status;
        throw err;
      }
      return body;
    } finally {
      busy(-1);
    }
  }
  function busy(d) {
    inflight += d;
    document.getElementById("busy").hidden = inflight <= 0;
    document.body.classList.toggle("is-busy", inflight > 0);
  }
  function showError(msg) {
    R.errors.push(msg);
    const el = document.getElementById("error");
    const line = document.createElement("div");
    line.textContent = msg;
    el.appendChild(line);
    el.hidden = false;
  }
  function clearErrors() {
    const el = document.getElementById("error");
    el.textContent = "";
    el.hidden = true;
    R.errors = [];
  }

  // ---------------------------------------------------------------- JSON reshaping (no arithmetic)
  const DATE_KEYS = ["date", "index", "time", "period"];
  const NAME_KEYS = ["series", "symbol", "basket", "name", "factor", "column"];
  function isFrame(o) { return o && typeof o === "object" && Array.isArray(o.index) && Array.isArray(o.columns) && Array.isArray(o.data); }
  // a pandas Series as the API serialises it: {index: [...], values: [...]}
  function isSeries(o) { return o && typeof o === "object" && Array.isArray(o.index) && Array.isArray(o.values) && !Array.isArray(o.columns); }
  function isRecords(o) { return Array.isArray(o) && o.length > 0 && o[0] !== null && typeof o[0] === "object" && !Array.isArray(o[0]); }
  /** Wide view {x: [...], cols: {name: [...]}} of a frame, a record list, or {date: value} maps. */
  function wide(o) {
    if (isSeries(o)) return {x: o.index, cols: {[o.name || "value"]: o.values}};
    if (isFrame(o)) {
      const cols = {};
      o.columns.forEach((c, j) => { cols[String(c)] = o.data.map(r => r[j]); });
      return {x: o.index, cols};
    }
    if (isRecords(o)) {
      const keys = Object.keys(o[0]);
      const dk = DATE_KEYS.find(k => keys.includes(k));
      if (!dk) return null;
      const nk = NAME_KEYS.find(k => keys.includes(k));
      const numeric = keys.filter(k => k !== dk && k !== nk && o.some(r => typeof r[k] === "number"));
      if (nk && numeric.length >= 1) {  // long form: one line per name (first numeric field, or "value")
        const vk = numeric.includes("value") ? "value" : numeric[0];
        const xs = [...new Set(o.map(r => r[dk]))].sort();
        const pos = new Map(xs.map((x, i) => [x, i]));
        const cols = {};
        for (const r of o) {
          const n = String(r[nk]);
          if (!cols[n]) cols[n] = new Array(xs.length).fill(null);
          cols[n][pos.get(r[dk])] = r[vk];
        }
        return {x: xs, cols};
      }
      const cols = {};
      numeric.forEach(k => { cols[k] = o.map(r => r[k]); });
      return {x: o.map(r => r[dk]), cols};
    }
    return null;
  }
  /** First member of ``o`` (searched by the given keys, then any key) that ``pred`` accepts. */
  function pick(o, keys, pred) {
    if (pred(o)) return o;
    if (!o || typeof o !== "object") return null;
    for (const k of keys) if (o[k] !== undefined && pred(o[k])) return o[k];
    for (const k of keys) if (o[k] && typeof o[k] === "object" && !Array.isArray(o[k])) {
      const found = pick(o[k], keys, pred); if (found) return found;
    }
    return null;
  }
  function isData(o) { return isFrame(o) || isSeries(o) || isRecords(o); }
  function records(o, keys) {
    if (isFrame(o)) return o.data.map((r, i) => Object.fromEntries([["index", o.index[i]], ...o.columns.map((c, j) => [c, r[j]])]));
    if (isRecords(o)) return o;
    if (o && typeof o === "object") {
      for (const k of keys || []) if (o[k] !== undefined) { const r = records(o[k], []); if (r.length) return r; }
      for (const v of Object.values(o)) if (isRecords(v) || isFrame(v)) return records(v, []);
    }
    return [];
  }
  function fmt(v) {
    if (v === null || v === undefined) return "\u2013";
    if (typeof v === "number") return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toPrecision(4) : String(Math.round(v * 1e4) / 1e4);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  // ---------------------------------------------------------------- drawing
  const BASE_LAYOUT = {
    margin: {l: 56, r: 16, t: 36, b: 40}, font: {family: "system-ui, sans-serif", size: 12, color: "#222"},
    paper_bgcolor: "#fff", plot_bgcolor: "#fff", colorway: COLOURS, hovermode: "x unified",
    legend: {orientation: "h", y: -0.15}, xaxis: {gridcolor: "#e6e6e6"}, yaxis: {gridcolor: "#e6e6e6", zerolinecolor: "#999"},
  };
  function layout(id, extra) {
    const el = document.getElementById(id);
    return Object.assign({}, BASE_LAYOUT, {title: {text: el.dataset.title || "", x: 0, font: {size: 14}}}, extra || {});
  }
  async function draw(id, traces, extra, emptyText) {
    const el = document.getElementById(id);
    el.classList.remove("loading");
    el.removeAttribute("data-empty");
    el.removeAttribute("data-failed");
    if (!traces.length) {
      el.setAttribute("data-empty", emptyText || "no data for this selection");
      traces = [];
    }
    await Plotly.react(el, traces, layout(id, extra), {responsive: true, displaylogo: false});
    el.setAttribute("data-drawn", String(++R.loads));
  }
  function lines(w, opts) {
    if (!w) return [];
    return Object.entries(w.cols).map(([name, ys]) => Object.assign({type: "scatter", mode: "lines", name, x: w.x, y: ys}, opts || {}));
  }
  function table(id, rows, columns) {
    const el = document.getElementById(id);
    el.classList.remove("loading");
    el.removeAttribute("data-failed");
    el.textContent = "";
    if (!rows.length) { el.textContent = "no rows"; return; }
    const cols = columns || [...new Set(rows.flatMap(r => Object.keys(r)))];
    const t = document.createElement("table");
    const head = t.createTHead().insertRow();
    for (const c of cols) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
    const body = t.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      for (const c of cols) {
        const td = tr.insertCell();
        td.textContent = fmt(r[c]);
        if (typeof r[c] === "number") td.className = "num";
        if (c === "verdict" || c === "status") td.dataset.value = String(r[c]).toLowerCase();
      }
    }
    el.appendChild(t);
  }
  function loading(ids) { for (const id of ids) document.getElementById(id).classList.add("loading"); }
  /** Run one panel's loader; API errors go to the banner and leave that panel marked failed. */
  async function panel(ids, fn, gen) {
    loading(ids);
    try {
      await fn(() => gen !== generation);
    } catch (e) {
      if (gen !== generation) return;
      for (const id of ids) {
        const el = document.getElementById(id);
        el.classList.remove("loading");
        el.setAttribute("data-failed", "1");
        // never leave a previous selection's chart on screen under a failed request
        if (el.classList.contains("chart") && el.data) Plotly.purge(el);
        if (el.classList.contains("chart")) el.removeAttribute("data-drawn");
        if (!el.classList.contains("chart")) el.textContent = "";
      }
      showError(e.message || String(e));
    }
  }

  // ---------------------------------------------------------------- controls
  function selectedBaskets(st) { return st.baskets.split(",").filter(Boolean); }
  function range(st) { return {start: st.start, end: st.end}; }

  function buildControls(universe) {
    const form = document.getElementById("controls");
    const fs = document.getElementById("baskets");
    const baskets = (universe && universe.baskets) || [];
    const names = baskets.map(b => b.name);
    for (const b of baskets) {
      const lab = document.createElement("label");
      lab.title = (b.members || []).join(", ");
      const cb = document.createElement("input");
      cb.type = "checkbox"; cb.name = "basket"; cb.value = b.name;
      lab.append(cb, " " + b.name);
      fs.appendChild(lab);
    }
    for (const sel of ["a", "b"]) {
      const s = form.elements[sel];
      for (const n of names) s.add(new Option(n, n));
    }
    const bench = form.elements.benchmark;
    const instruments = (universe && universe.instruments) || [];
    const benchBasket = baskets.find(b => b.role === "benchmark");
    const candidates = benchBasket ? benchBasket.members : instruments.map(i => i.symbol);
    for (const s of candidates) bench.add(new Option(s, s));
    for (const n of names) bench.add(new Option(n + " (basket)", n));

    form.addEventListener("change", ev => {
      const st = Object.assign({}, R.state);
      const t = ev.target;
      if (t.name === "basket") {
        st.baskets = Array.from(fs.querySelectorAll("input:checked")).map(c => c.value).join(",");
      } else if (t.name === "member") {
        st.symbols = togglePicked(selectedMembers(st), [t.value], t.checked).join(",");
      } else if (t.name && t.name in DEFAULTS) {
        st[t.name] = t.value.trim();
      }
      writeState(st);
    });
    setupPicker();
    // "as of" sits on the claims page, outside the form element (associated with form="controls")
    document.getElementById("as_of").addEventListener("change", ev => {
      writeState(Object.assign({}, R.state, {as_of: ev.target.value}));
    });
  }
  function syncControls(st) {
    const form = document.getElementById("controls");
    for (const k of Object.keys(DEFAULTS)) {
      const el = form.elements[k] || document.getElementById(k);
      if (el && "value" in el && document.activeElement !== el) el.value = st[k];
    }
    const chosen = new Set(selectedBaskets(st));
    for (const cb of document.querySelectorAll("#baskets input")) cb.checked = chosen.has(cb.value);
    syncPicker(st);
    for (const a of document.querySelectorAll("#tabs a")) {
      a.classList.toggle("active", a.dataset.page === R.page);
      // keep the query string when switching tabs, so the view stays the same
      a.href = "#" + a.dataset.page + (location.hash.includes("?") ? location.hash.slice(location.hash.indexOf("?")) : "");
    }
    for (const s of document.querySelectorAll("main > section")) s.hidden = s.dataset.page !== R.page;
  }

  // ---------------------------------------------------------------- member picker
  // One group of checkboxes per chosen basket (members from /universe), plus the picked symbols that
  // belong to none of them (e.g. from a shared URL) so they can be seen and removed. The picked set
  // is the hash's "symbols" (the RRG's parameter); the DOM is rebuilt only when the groups change, so
  // keyboard focus stays on the box just toggled.
  function selectedMembers(st) { return [...new Set(st.symbols.split(",").map(s => s.trim()).filter(Boolean))]; }
  function basketMembers(name) {
    const b = ((R.universe && R.universe.baskets) || []).find(x => x.name === name);
    return b ? (b.members || []) : [];
  }
  /** ``picked`` with ``symbols`` added (in order, up to MAX_MEMBERS) or removed. */
  function togglePicked(picked, symbols, on) {
    if (!on) return picked.filter(s => !symbols.includes(s));
    const out = picked.slice();
    for (const s of symbols) if (!out.includes(s) && out.length < MAX_MEMBERS) out.push(s);
    return out;
  }
  function setPicked(list) { writeState(Object.assign({}, R.state, {symbols: list.join(",")})); }
  function openPicker(open) {
    const toggle = document.getElementById("members-toggle");
    document.getElementById("members-panel").hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      // straight to the first member (a selector list would match in document order: the header's buttons)
      const first = document.querySelector("#members-groups input:not(:disabled)") || document.querySelector("#members-panel button");
      if (first) first.focus();
    }
  }
  function setupPicker() {
    const box = document.getElementById("members");
    const toggle = document.getElementById("members-toggle");
    toggle.addEventListener("click", () => openPicker(toggle.getAttribute("aria-expanded") !== "true"));
    box.addEventListener("click", ev => {
      const act = ev.target.dataset && ev.target.dataset.act;
      if (!act) return;
      const picked = selectedMembers(R.state);
      if (act === "close") { openPicker(false); toggle.focus(); }
      else if (act === "clear") setPicked([]);
      else if (act === "all" || act === "none") {
        const members = ev.target.dataset.basket ? basketMembers(ev.target.dataset.basket)
          : selectedMembers(R.state).filter(s => !selectedBaskets(R.state).flatMap(basketMembers).includes(s));
        setPicked(togglePicked(picked, members, act === "all"));
      }
    });
    box.addEventListener("keydown", ev => {
      if (ev.key === "Escape" && !document.getElementById("members-panel").hidden) {
        ev.preventDefault();
        openPicker(false);
        toggle.focus();
      }
    });
    // a click anywhere else closes it, as a menu would
    document.addEventListener("click", ev => { if (!box.contains(ev.target)) openPicker(false); });
  }
  let pickerKey = null;
  function syncPicker(st) {
    const groups = document.getElementById("members-groups");
    const chosen = selectedBaskets(st).filter(b => basketMembers(b).length);
    const picked = selectedMembers(st);
    const grouped = new Set(chosen.flatMap(basketMembers));
    const others = picked.filter(s => !grouped.has(s));
    const key = chosen.join(",") + "|" + others.join(",");
    if (key !== pickerKey) {
      pickerKey = key;
      const f = document.activeElement;
      const focusKey = f && groups.contains(f) ? (f.dataset.basket || "") + ":" + (f.value || f.dataset.act) : null;
      groups.textContent = "";
      const names = new Map(((R.universe && R.universe.instruments) || []).map(i => [i.symbol, i.name || ""]));
      const group = (basket, legendText, members) => {
        const fs = document.createElement("fieldset");
        fs.className = "mgroup";
        fs.dataset.basket = basket;
        const lg = document.createElement("legend");
        lg.textContent = legendText;
        const count = document.createElement("span");
        count.className = "mcount";
        lg.append(" ", count);
        fs.appendChild(lg);
        for (const act of ["all", "none"]) {
          const btn = document.createElement("button");
          btn.type = "button"; btn.dataset.act = act; btn.dataset.basket = basket; btn.textContent = act;
          btn.setAttribute("aria-label", (act === "all" ? "Pick every member of " : "Pick no member of ") + legendText);
          fs.appendChild(btn);
        }
        for (const m of members) {
          const lab = document.createElement("label");
          if (names.get(m)) lab.title = names.get(m);
          const cb = document.createElement("input");
          cb.type = "checkbox"; cb.name = "member"; cb.value = m; cb.dataset.basket = basket;
          lab.append(cb, " " + m);
          fs.appendChild(lab);
        }
        groups.appendChild(fs);
      };
      for (const b of chosen) group(b, b, basketMembers(b));
      if (others.length) group("", "other picked", others);
      if (!chosen.length && !others.length) {
        const p = document.createElement("p");
        p.className = "hint";
        p.textContent = "Tick a basket to pick its members.";
        groups.appendChild(p);
      }
      if (focusKey) {
        const again = [...groups.querySelectorAll("input, button")].find(e => (e.dataset.basket || "") + ":" + (e.value || e.dataset.act) === focusKey);
        // the box just used may be gone (an "other picked" member removed): stay inside the picker
        (again || groups.querySelector("input:not(:disabled), button") || document.getElementById("members-toggle")).focus();
      }
    }
    const set = new Set(picked);
    const full = picked.length >= MAX_MEMBERS;
    for (const cb of groups.querySelectorAll("input[name=member]")) {
      cb.checked = set.has(cb.value);
      cb.disabled = full && !cb.checked;
    }
    for (const fs of groups.querySelectorAll(".mgroup")) {
      const boxes = [...fs.querySelectorAll("input[name=member]")];
      fs.querySelector(".mcount").textContent = boxes.filter(c => c.checked).length + "/" + boxes.length;
    }
    document.getElementById("members-limit").textContent = full ? "at most " + MAX_MEMBERS + " members (the API's limit)" : "";
    document.getElementById("members-count").textContent = !picked.length ? "none"
      : picked.length <= 2 ? picked.join(", ") : picked.length + " picked";
  }

  // ---------------------------------------------------------------- pages
  const PAGE_LOADERS = {
    overview(st, gen) {
      return Promise.all([
        panel(["chart-rrg"], async stale => {
          const membersOnly = st.rrg === "members";
          const note = document.getElementById("note-rrg");
          note.hidden = true;
          if (membersOnly && !st.symbols) {
            await draw("chart-rrg", [], {}, "no members picked: choose them under \u201cMembers\u201d above");
            headline({}, "rrg");
            return;
          }
          const p = Object.assign(range(st), {baskets: membersOnly ? "" : st.baskets, symbols: st.symbols,
            benchmark: st.benchmark, ratio_window: st.ratio_window, momentum_window: st.momentum_window, tail: st.tail});
          const j = await api("/rrg", p);
          if (stale()) return;
          await drawRRG(j);
          headline(j, "rrg");
          // members without prices are left out by the API: say which
          const notes = (j && j.notes) || [];
          note.textContent = notes.length ? "Relative rotation graph: " + notes.join("; ") : "";
          note.hidden = !notes.length;
        }, gen),
        panel(["chart-levels"], async stale => {
          const j = await api("/baskets/levels", Object.assign(range(st), {baskets: st.baskets, frequency: st.frequency}));
          if (stale()) return;
          const w = wide(pick(j, ["levels", "data", "frame"], isData));
          await draw("chart-levels", lines(w), {yaxis: {type: "log", dtick: "D2", tickformat: ",.0f", gridcolor: "#e6e6e6", title: {text: "level (log scale)"}}});
          headline({levels: w}, "levels");
        }, gen),
        panel(["headline"], async stale => {
          const j = await api("/rotation-index", Object.assign(range(st), {a: st.a, b: st.b, window: st.window}));
          if (stale()) return;
          headline(j, "rotation");
        }, gen),
      ]);
    },
    rotation(st, gen) {
      return Promise.all([
        panel(["chart-rotation"], async stale => {
          const j = await api("/rotation-index", Object.assign(range(st), {a: st.a, b: st.b, window: st.window}));
          if (stale()) return;
          // series: {index, columns: [raw, index, trend, trend_sign], data}; crossings: [{date, direction, value}]
          const w = wide(j && j.series) || wide(pick(j, ["data", "frame"], isData));
          const style = {raw: {name: "raw (unsmoothed)", line: {color: "#9aa3ad", width: 1}},
            index: {name: "rotation index", line: {color: COLOURS[0], width: 2.5}},
            trend: {name: "trend", line: {color: COLOURS[1], width: 2, dash: "dash"}}};
          const traces = w ? Object.entries(w.cols).filter(([n]) => n !== "trend_sign")
            .map(([n, ys]) => Object.assign({type: "scatter", mode: "lines", name: n, x: w.x, y: ys}, style[n] || {})) : [];
          const shapes = records(j, ["crossings", "sign_changes"]).filter(r => r.date).map(r => ({type: "line", xref: "x", yref: "paper",
            x0: r.date, x1: r.date, y0: 0, y1: 1, line: {color: r.direction === "up" ? "#009E73" : "#D55E00", width: 1, dash: "dot"}}));
          await draw("chart-rotation", traces, {shapes, title: {text: "Rotation index " + (j.a || st.a) + " vs " + (j.b || st.b) + " (dotted: sign changes)", x: 0, font: {size: 14}}, yaxis: {gridcolor: "#e6e6e6", zerolinecolor: "#555", title: {text: st.a + " minus " + st.b}}});
        }, gen),
        panel(["chart-regimes", "table-regimes"], async stale => {
          const j = await api("/regimes", Object.assign(range(st), {series: "rotation_index", k: 2}));
          if (stale()) return;
          const probs = pick(j, ["probabilities", "probs", "smoothed"], isData);
          const w = wide(probs);
          await draw("chart-regimes", lines(w, {stackgroup: "p"}), {yaxis: {range: [0, 1], title: {text: "probability"}, gridcolor: "#e6e6e6"}});
          const rows = records(j, ["spells", "change_points"]);
          table("table-regimes", rows.length ? rows : [Object.fromEntries(Object.entries(j || {}).filter(([, v]) => v === null || typeof v !== "object"))]);
        }, gen),
      ]);
    },
    flows(st, gen) {
      return Promise.all([
        panel(["chart-shares"], async stale => {
          const j = await api("/flows/shares", Object.assign(range(st), {baskets: st.baskets}));
          if (stale()) return;
          const w = wide(pick(j, ["shares", "data", "frame"], isData));
          await draw("chart-shares", lines(w, {stackgroup: "s"}), {yaxis: {title: {text: "share of combined market cap"}, tickformat: ".0%", gridcolor: "#e6e6e6"}});
        }, gen),
        panel(["chart-stablecoins"], async stale => {
          const j = await api("/flows/stablecoins", range(st));
          if (stale()) return;
          const w = wide(pick(j, ["net_issuance", "issuance", "data", "frame"], isData));
          await draw("chart-stablecoins", lines(w, {type: "bar", mode: undefined}), {barmode: "relative", yaxis: {title: {text: "USD"}, gridcolor: "#e6e6e6"}});
        }, gen),
      ]);
    },
    comovement(st, gen) {
      return Promise.all([
        panel(["chart-correlation"], async stale => {
          const j = await api("/comovement/correlation", Object.assign(range(st), {a: st.a, b: st.b, window: st.window, benchmark: st.benchmark}));
          if (stale()) return;
          const traces = [];
          for (const [k, v] of Object.entries(j || {})) { const w = wide(v); if (w) traces.push(...lines(w).map(t => Object.assign(t, {name: Object.keys(w.cols).length > 1 ? k + ": " + t.name : k}))); }
          if (!traces.length) traces.push(...lines(wide(j)));
          await draw("chart-correlation", traces);
        }, gen),
        panel(["chart-leadlag"], async stale => {
          const j = await api("/comovement/lead-lag", Object.assign(range(st), {x: st.a, y: st.b}));
          if (stale()) return;
          const rows = records(j, ["lags", "table", "data"]);
          const keys = rows.length ? Object.keys(rows[0]) : [];
          const lk = keys.find(k => /lag/.test(k)) || keys[0];
          const vk = keys.find(k => k !== lk && typeof rows[0][k] === "number");
          await draw("chart-leadlag", rows.length && vk ? [{type: "bar", name: vk, x: rows.map(r => r[lk]), y: rows.map(r => r[vk]), marker: {color: COLOURS[0]}}] : [],
            {hovermode: "closest", xaxis: {title: {text: lk + " (positive: " + st.a + " leads)"}, gridcolor: "#e6e6e6"}});
        }, gen),
      ]);
    },
    macro(st, gen) {
      return Promise.all([
        panel(["chart-sensitivity"], async stale => {
          const j = await api("/macro/sensitivity", Object.assign(range(st), {baskets: st.baskets, window: st.window}));
          if (stale()) return;
          const traces = [];
          const betas = pick(j, ["betas", "rolling", "data", "frame"], isData);
          if (betas) traces.push(...lines(wide(betas)));
          else for (const [k, v] of Object.entries(j || {})) { const w = wide(v); if (w) traces.push(...lines(w).map(t => Object.assign(t, {name: k + ": " + t.name}))); }
          await draw("chart-sensitivity", traces);
        }, gen),
        panel(["chart-liquidity"], async stale => {
          const j = await api("/macro/net-liquidity", range(st));
          if (stale()) return;
          await draw("chart-liquidity", lines(wide(pick(j, ["net_liquidity", "series", "data", "frame"], isData))), {yaxis: {title: {text: "USD"}, gridcolor: "#e6e6e6"}});
        }, gen),
      ]);
    },
    events(st, gen) {
      return panel(["chart-events", "table-events"], async stale => {
        const j = await api("/events", Object.assign(range(st), {baskets: st.baskets}));
        if (stale()) return;
        const path = pick(j, ["paths", "average", "mean_path", "car"], isData);
        await draw("chart-events", lines(wide(path)), {xaxis: {title: {text: "days from event"}, gridcolor: "#e6e6e6"}});
        table("table-events", records(j, ["summary", "table", "events", "results"]));
      }, gen);
    },
    claims(st, gen) {
      return panel(["table-claims"], async stale => {
        const j = await api("/claims", {as_of: st.as_of});
        if (stale()) return;
        const rows = records(j, ["claims", "results", "ledger", "rows"]).map(r => {
          const o = {};
          for (const [k, v] of Object.entries(r)) if (v === null || typeof v !== "object") o[k] = v;
          return o;
        });
        const prefer = ["id", "claim", "title", "verdict", "status", "statement", "summary", "evidence", "as_of"];
        const cols = [...prefer.filter(c => rows.some(r => c in r)), ...[...new Set(rows.flatMap(Object.keys))].filter(c => !prefer.includes(c))];
        table("table-claims", rows, cols);
      }, gen);
    },
    data(st, gen) {
      return Promise.all([
        panel(["table-health"], async () => {
          const j = await api("/health");
          table("table-health", [Object.fromEntries(Object.entries(j || {}).map(([k, v]) => [k, typeof v === "object" && v !== null ? JSON.stringify(v) : v]))]);
        }, gen),
        panel(["table-instruments"], async () => table("table-instruments", records(await api("/instruments"), ["coverage", "instruments", "rows"])), gen),
        panel(["table-quality"], async () => table("table-quality", records(await api("/quality"), ["series", "rows", "checks", "summary"])), gen),
      ]);
    },
  };

  async function drawRRG(j) {
    // tails: records with series/date/rs_ratio/rs_momentum (step 0 = latest)
    const tails = records(j, ["tails", "tail"]).filter(r => "rs_ratio" in r && "rs_momentum" in r);
    const latest = records(j, ["points", "latest"]).filter(r => "rs_ratio" in r && "rs_momentum" in r);
    const nameOf = r => String(r.series ?? r.symbol ?? r.name ?? r.index ?? "?");
    const groups = new Map();
    for (const r of tails) { const n = nameOf(r); if (!groups.has(n)) groups.set(n, []); groups.get(n).push(r); }
    const traces = [];
    // a series keeps its colour whatever else is shown (baskets + members vs members only): colours
    // follow the position in "chosen baskets, then picked members"
    const order = [...selectedBaskets(R.state), ...selectedMembers(R.state)];
    const seen = [...groups.keys(), ...latest.map(nameOf)];
    const colourOf = n => COLOURS[(order.includes(n) ? order.indexOf(n) : order.length + seen.indexOf(n)) % COLOURS.length];
    // labels on the latest points only while they stay legible; the legend and hover name them all
    const label = new Set([...groups.keys(), ...latest.map(nameOf)]).size <= 4;
    for (const [name, rows] of groups) {
      const colour = colourOf(name);
      traces.push({type: "scatter", mode: "lines+markers", name, legendgroup: name, x: rows.map(r => r.rs_ratio), y: rows.map(r => r.rs_momentum),
        text: rows.map(r => r.date), hovertemplate: name + "<br>%{text}<br>ratio %{x:.2f}<br>momentum %{y:.2f}<extra></extra>",
        line: {color: colour, width: 2}, marker: {color: colour, size: 5}});
    }
    for (const r of latest) {
      const name = nameOf(r);
      const colour = colourOf(name);
      if (r.rs_ratio === null || r.rs_momentum === null) continue;
      traces.push({type: "scatter", mode: label ? "markers+text" : "markers", name: groups.has(name) ? name + " (latest)" : name, legendgroup: name, showlegend: !groups.has(name),
        x: [r.rs_ratio], y: [r.rs_momentum], text: [name], textposition: "top center",
        hovertemplate: name + " " + (r.quadrant || "") + "<br>" + (r.date || "") + "<extra></extra>", marker: {color: colour, size: 11, line: {color: "#fff", width: 1}}});
    }
    // Axis extent for display only: symmetric about the 100 centre so the four quadrants show
    // (plotly's autorange would otherwise stretch to the background rectangles).
    const xs = traces.flatMap(t => t.x).filter(v => typeof v === "number");
    const ys = traces.flatMap(t => t.y).filter(v => typeof v === "number");
    const half = v => Math.max(0.5, ...v.map(a => Math.abs(a - 100))) * 1.12;
    const hx = half(xs), hy = half(ys);
    const span = 1e6;
    const quad = (x0, x1, y0, y1, q) => ({type: "rect", xref: "x", yref: "y", x0, x1, y0, y1, fillcolor: QUADRANT_FILL[q], line: {width: 0}, layer: "below"});
    const shapes = [quad(100, span, 100, span, "leading"), quad(100, span, -span, 100, "weakening"),
      quad(-span, 100, -span, 100, "lagging"), quad(-span, 100, 100, span, "improving")];
    const ann = (x, y, text, xa, ya) => ({xref: "paper", yref: "paper", x, y, text, showarrow: false, xanchor: xa, yanchor: ya, font: {size: 11, color: "#555"}});
    // many series: a legend in one column on the right (a wrapped one below runs into the x-axis title)
    const many = traces.filter(t => t.showlegend !== false).length > 5;
    const side = many ? {legend: {orientation: "v", x: 1.01, xanchor: "left", y: 1, yanchor: "top"},
      margin: Object.assign({}, BASE_LAYOUT.margin, {r: 8})} : {};
    await draw("chart-rrg", traces, {hovermode: "closest", shapes, ...side,
      annotations: [ann(1, 1, "Leading", "right", "top"), ann(1, 0, "Weakening", "right", "bottom"), ann(0, 0, "Lagging", "left", "bottom"), ann(0, 1, "Improving", "left", "top")],
      xaxis: {title: {text: "RS-Ratio (vs " + (j && j.benchmark || R.state.benchmark) + ")"}, gridcolor: "#e6e6e6", zeroline: false, range: [100 - hx, 100 + hx]},
      yaxis: {title: {text: "RS-Momentum"}, gridcolor: "#e6e6e6", zeroline: false, range: [100 - hy, 100 + hy]}});
  }

  // headline cards: values copied from responses (latest quadrant, latest level, latest index)
  const HEAD = {};
  function headline(j, kind) {
    if (kind === "rrg") {
      // one card per basket; picked members are read off the chart (a card each would push it off screen)
      const baskets = new Set(((R.universe && R.universe.baskets) || []).map(b => b.name));
      HEAD.rrg = records(j, ["points", "latest"]).filter(r => r.quadrant !== undefined)
        .filter(r => !baskets.size || baskets.has(String(r.series ?? r.symbol ?? r.index))).map(r => ({label: String(r.series ?? r.symbol ?? r.index) + " quadrant", value: r.quadrant ?? "\u2013", cls: r.quadrant}));
    } else if (kind === "levels") {
      const w = j.levels;
      HEAD.levels = w ? Object.entries(w.cols).map(([n, ys]) => {
        let k = ys.length - 1; while (k >= 0 && (ys[k] === null || ys[k] === undefined)) k--;
        return {label: n + " level " + (k >= 0 ? w.x[k] : ""), value: k >= 0 ? fmt(ys[k]) : "\u2013"};
      }) : [];
    } else if (kind === "rotation") {
      const wanted = ["rotation index (log growth diff)", "latest date", "trend sign", "last sign change", "last change direction", "drift annualised", "drift p"];
      const rows = records(j, ["headline"]).filter(r => wanted.includes(r.metric));
      HEAD.rotation = rows.length ? rows.map(r => ({label: (r.metric === "rotation index (log growth diff)" ? "rotation index " + (j.a || R.state.a) + " vs " + (j.b || R.state.b) : r.metric), value: fmt(r.value)}))
        : [{label: "rotation index " + R.state.a + " vs " + R.state.b, value: "\u2013"}];
    }
    const el = document.getElementById("headline");
    el.classList.remove("loading");
    el.textContent = "";
    for (const c of [...(HEAD.rotation || []), ...(HEAD.levels || []), ...(HEAD.rrg || [])]) {
      const d = document.createElement("div");
      d.className = "card" + (c.cls ? " q-" + c.cls : "");
      const v = document.createElement("div"); v.className = "value"; v.textContent = c.value;
      const l = document.createElement("div"); l.className = "label"; l.textContent = c.label;
      d.append(v, l);
      el.appendChild(d);
    }
  }

  // ---------------------------------------------------------------- main loop
  async function render() {
    const st = readState();
    syncControls(st);
    clearErrors();
    const gen = ++generation;
    if (R.page === "overview") for (const k of Object.keys(HEAD)) delete HEAD[k];
    R.ready = false;
    try {
      await PAGE_LOADERS[R.page](st, gen);
    } finally {
      if (gen === generation) R.ready = true;
    }
  }

  async function start() {
    try {
      R.universe = await api("/universe");
    } catch (e) {
      showError(e.message || String(e));
    }
    buildControls(R.universe);
    window.addEventListener("hashchange", render);
    await render();
  }
  document.addEventListener("DOMContentLoaded", start);
})();
