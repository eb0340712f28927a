// headcount dashboard: reads a site's retained topics over MQTT/WebSockets and shows counts only.
// Connects back to the broker that served this page unless ?broker=ws(s)://… says otherwise;
// ?site=NAME picks the site (default: the first one seen). Credentials, when the broker asks,
// live in this closure only. Every number sits in an element with data-sensor / data-metric.
(function () {
  "use strict";
  const params = new URLSearchParams(location.search);
  const origin = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/mqtt";
  const brokerUrl = params.get("broker") || origin;
  let site = params.get("site") || "";
  const STALE_S = 180;

  // State, from the topics.
  const sensors = new Map(); // name -> {state, lastTs, occupancy, lines: Map, health, privacy}
  const siteState = { building: null, occupancy: null, sensors: null, history: null };
  const live = []; // [unix s, building count] seen while this page is open

  const $ = (sel, root) => (root || document).querySelector(sel);
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function metric(sensor, name, text, extra) {
    return el("span", Object.assign({ "data-sensor": sensor, "data-metric": name }, extra || {}), text);
  }
  function setText(sensor, name, text) {
    for (const e of document.querySelectorAll(`[data-sensor="${CSS.escape(sensor)}"][data-metric="${name}"]`)) {
      if (e.textContent !== String(text)) e.textContent = String(text);
    }
  }
  function sensor(name) {
    if (!sensors.has(name)) {
      sensors.set(name, { state: "unknown", lastTs: 0, occupancy: null, lines: new Map(), health: null, privacy: null });
    }
    return sensors.get(name);
  }
  const tsOf = (p) => (p && p.ts ? Date.parse(p.ts) / 1000 : 0);

  // ---- connection -------------------------------------------------------------------------
  let client = null;
  function connect(username, password) {
    if (client) client.end(true);
    const opts = { reconnectPeriod: 2000, connectTimeout: 10000, clean: true, protocolVersion: 4 };
    if (username) { opts.username = username; opts.password = password; }
    setText("_page", "connection", "connecting…");
    client = mqtt.connect(brokerUrl, opts);
    client.on("connect", () => {
      $("#login").classList.remove("shown");
      setText("_page", "connection", "live");
      client.subscribe(site ? `headcount/${site}/#` : "headcount/#", { qos: 1 });
    });
    client.on("close", () => setText("_page", "connection", "reconnecting…"));
    client.on("error", (err) => {
      const auth = err && (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135);
      if (auth) {
        client.end(true);
        $("#login").classList.add("shown");
        setText("_page", "connection", "login needed");
      }
    });
    client.on("message", onMessage);
  }
  $("#login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    connect($("#user").value, $("#pass").value);
    $("#pass").value = "";
  });

  // ---- messages ---------------------------------------------------------------------------
  function onMessage(topic, payload) {
    const levels = topic.split("/");
    if (levels[0] !== "headcount" || levels.length < 4) return;
    if (!site) site = levels[1];
    if (levels[1] !== site) return;
    $("#site-name").textContent = site;
    const who = levels[2];
    const kind = levels[3];
    const text = payload.toString();
    if (who === "_site") return onSite(kind, text);
    const s = sensor(who);
    if (kind === "availability") {
      s.state = text === "online" ? "online" : "offline";
    } else {
      let p;
      try { p = JSON.parse(text); } catch (e) { return; }
      if (typeof p !== "object" || p === null) return;
      s.lastTs = Math.max(s.lastTs, tsOf(p));
      if (kind === "occupancy") s.occupancy = p;
      else if (kind === "line" && levels[4]) s.lines.set(levels[4], p);
      else if (kind === "health") s.health = p;
      else if (kind === "privacy") s.privacy = p;
    }
    schedule();
  }
  function onSite(kind, text) {
    if (kind === "availability") return;
    try { siteState[kind] = JSON.parse(text); } catch (e) { return; }
    if (kind === "building" && siteState.building) {
      const c = siteState.building.count;
      if (typeof c === "number") live.push([tsOf(siteState.building), c]);
      if (live.length > 5000) live.splice(0, live.length - 5000);
    }
    schedule();
  }

  // ---- rendering --------------------------------------------------------------------------
  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }
  function stateOf(name, s) {
    if (s.state === "offline") return "offline";
    const listed = siteState.sensors;
    if (listed && (listed.stale || []).includes(name)) return "stale";
    if (s.state === "online" && s.lastTs && Date.now() / 1000 - s.lastTs > STALE_S) return "stale";
    return s.state === "online" ? "online" : "offline";
  }
  function ageText(ts) {
    if (!ts) return "–";
    const a = Math.max(0, Math.round(Date.now() / 1000 - ts));
    return a < 120 ? `${a} s` : a < 7200 ? `${Math.round(a / 60)} min` : `${Math.round(a / 3600)} h`;
  }
  function render() {
    const b = siteState.building;
    const o = siteState.occupancy;
    setText("_site", "occupancy", b ? b.count : "–");
    setText("_site", "in_total", b ? b.in_total : "–");
    setText("_site", "out_total", b ? b.out_total : "–");
    setText("_site", "rooms", o ? o.count : "–");
    setText("_site", "complete", b ? (b.complete ? "all entrances reporting" : `incomplete: ${b.missing.join(", ")} not reporting`) : "no site aggregator seen (headcount aggregate)");
    renderRooms(o);
    renderDoors();
    renderSensors();
    renderPrivacy();
    renderChart();
  }
  function renderRooms(o) {
    const box = $("#rooms");
    const rooms = o && o.rooms && o.rooms.length
      ? o.rooms.map((r) => ({ name: r.sensor, count: r.count, capacity: r.capacity || 0 }))
      : [...sensors.entries()].filter(([, s]) => s.occupancy).map(([n, s]) => ({ name: n, count: s.occupancy.count, capacity: 0 }));
    box.replaceChildren();
    if (!rooms.length) { box.append(el("div", { class: "empty" }, "no room reported yet")); return; }
    for (const r of rooms.sort((a, b) => a.name.localeCompare(b.name))) {
      const s = sensors.get(r.name);
      const count = s && s.occupancy ? s.occupancy.count : r.count;
      const row = el("div", { class: "row" });
      row.append(el("span", {}, r.name));
      const right = el("span", { class: "num" });
      right.append(metric(r.name, "occupancy", count === undefined || count === null ? "–" : count));
      if (r.capacity) right.append(el("span", { class: "sub" }, ` / ${r.capacity}`));
      row.append(right);
      box.append(row);
      if (r.capacity && typeof count === "number") {
        const bar = el("div", { class: "bar" });
        const fill = el("i");
        fill.style.width = `${Math.min(100, (100 * count) / r.capacity)}%`;
        bar.append(fill);
        box.append(bar);
      }
    }
  }
  function renderDoors() {
    const box = $("#doors");
    box.replaceChildren();
    let any = false;
    for (const [name, s] of [...sensors.entries()].sort()) {
      for (const [line, p] of s.lines) {
        any = true;
        const row = el("div", { class: "row" });
        row.append(el("span", {}, s.lines.size > 1 ? `${name} · ${line}` : name));
        const right = el("span", { class: "num" });
        right.append(metric(name, "in_total", p.in_total, { "data-line": line }), " in · ",
          metric(name, "out_total", p.out_total, { "data-line": line }), " out");
        row.append(right);
        box.append(row);
      }
    }
    if (!any) box.append(el("div", { class: "empty" }, "no entrance line reported yet"));
  }
  function renderSensors() {
    const body = $("#sensors");
    body.replaceChildren();
    for (const [name, s] of [...sensors.entries()].sort()) {
      const st = stateOf(name, s);
      const h = s.health || {};
      const tr = el("tr");
      const cell = (child, cls) => { const td = el("td", cls ? { class: cls } : {}); td.append(child); return td; };
      tr.append(cell(el("span", {}, name)),
        cell(metric(name, "state", st, { class: `state ${st}` })),
        cell(metric(name, "age", ageText(s.lastTs)), "n"),
        cell(metric(name, "fps", h.fps !== undefined ? h.fps : "–"), "n"),
        cell(metric(name, "runtime", h.runtime || "–"), "wide"),
        cell(metric(name, "accelerator", h.accelerator || "–"), "wide"));
      body.append(tr);
    }
  }
  function renderPrivacy() {
    const stated = [...sensors.values()].map((s) => s.privacy).filter(Boolean);
    if (!stated.length) return;
    const none = stated.filter((p) => p.image_output === "none").length;
    const sandboxed = stated.filter((p) => String(p.sandbox).startsWith("landlock")).length;
    const k = Math.max(...stated.map((p) => (p.safeguards && p.safeguards.min_count) || 0));
    setText("_site", "privacy",
      `Image output: ${none === stated.length ? "none" : `none on ${none} of ${stated.length}`} — ` +
      `${stated.length} sensor${stated.length > 1 ? "s" : ""} publish counts only; ` +
      `sandbox on ${sandboxed} of ${stated.length}` + (k > 1 ? `; counts below ${k} banded` : "") + ".");
  }

  // ---- chart ------------------------------------------------------------------------------
  let plot = null;
  function series() {
    const xs = [];
    const ys = [];
    const h = siteState.history;
    // The day's bins (each its peak, drawn at its middle) until the live stream starts; then
    // every change seen live.
    const liveFrom = live.length ? live[0][0] : Infinity;
    if (h && Array.isArray(h.building)) {
      const start = Date.parse(h.day_start) / 1000;
      h.building.forEach((v, i) => {
        const binStart = start + i * h.bin_s;
        if (typeof v === "number" && binStart + h.bin_s <= liveFrom) { xs.push(binStart + h.bin_s / 2); ys.push(v); }
      });
    }
    for (const [t, v] of live) { xs.push(t); ys.push(v); }
    if (!xs.length) {
      // No aggregator: the sum of what the sensors see, live.
      const t = Date.now() / 1000;
      let sum = 0;
      for (const s of sensors.values()) if (s.occupancy && typeof s.occupancy.count === "number") sum += s.occupancy.count;
      const last = live[live.length - 1];
      if (!last || last[1] !== sum) live.push([t, sum]);
      if (live.length > 5000) live.splice(0, live.length - 5000);
      for (const [lt, v] of live) { xs.push(lt); ys.push(v); }
    }
    return [xs, ys];
  }
  function renderChart() {
    if (typeof uPlot === "undefined") return;
    const box = $("#chart");
    const data = series();
    const width = Math.max(200, box.clientWidth);
    if (!plot) {
      plot = new uPlot({
        width, height: 220,
        series: [{}, { label: "people", stroke: "#2f5bd3", fill: "rgba(47,91,211,.12)", width: 2 }],
        axes: [{}, { label: "people" }],
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max + 1)] } },
        legend: { show: false },
      }, data, box);
    } else {
      if (plot.width !== width) plot.setSize({ width, height: 220 });
      plot.setData(data);
    }
  }
  // uPlot's stylesheet, read and applied here (the broker's HTTP server sends no content type).
  fetch("vendor/uPlot-1.6.32.min.css").then((r) => r.text()).then((css) => {
    document.head.append(el("style", {}, css));
  }).catch(() => {});
  setInterval(render, 5000); // ages and staleness move with time
  window.addEventListener("resize", schedule);
  connect();
})();
