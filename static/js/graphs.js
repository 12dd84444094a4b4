// The graphs of a VM or a host (templates/graphs/_charts.html), drawn with uPlot. The data comes
// as JSON columns (apps/core/series/graph.py): times, then one list per field, and for the
// downsampled ranges (24 h, 7 d) each field's minima and maxima, drawn as a shaded band. On each
// tick of the host (the live signal kv:stats-<host>) a graph asks only for what is newer than its
// last point and appends it; a range button reads that range whole.

import uPlot from "../vendor/uplot/uPlot.esm.js";

const RANGE_SECONDS = { "15m": 900, "1h": 3600, "24h": 86400, "7d": 604800 };
const COLOURS = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1"];
const HEIGHT = 180;
// The least top of a y axis, so an idle VM's graph reads as idle rather than as noise blown up.
const FLOOR = { "%": 100, bytes: 1024 * 1024, "bytes/s": 1024, "/s": 1 };
const started = new WeakSet();

function human(value, base, units) {
  if (value == null) return "–";
  let v = Math.abs(value);
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  const shown = v === 0 || v >= 100 || (i === 0 && Number.isInteger(v)) ? v.toFixed(0) : v.toFixed(v < 10 ? 1 : 0);
  return (value < 0 ? "-" : "") + shown + " " + units[i];
}

function formatter(unit) {
  const bytes = ["B", "KiB", "MiB", "GiB", "TiB"];
  if (unit === "%") return (v) => (v == null ? "–" : v.toFixed(v > 0 && v < 10 ? 1 : 0) + " %");
  if (unit === "bytes") return (v) => human(v, 1024, bytes);
  if (unit === "bytes/s") return (v) => (v == null ? "–" : human(v, 1024, bytes) + "/s");
  return (v) => (v == null ? "–" : human(v, 1000, ["", "k", "M", "G"]).trim() + unit);
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

// The answer carries each field in its stored unit (MiB/s, GiB…) and the factor to its unit.
function inUnits(data) {
  for (const group of ["values", "min", "max"]) {
    if (!data[group]) continue;
    for (const [name, column] of Object.entries(data[group])) {
      const k = data.scale[name];
      if (k !== 1) for (let i = 0; i < column.length; i++) if (column[i] !== null) column[i] *= k;
    }
  }
  return data;
}

class Chart {
  constructor(figure) {
    this.figure = figure;
    this.plotArea = figure.querySelector(".kv-chart-plot");
    this.unit = figure.dataset.unit;
    this.fields = figure.dataset.series.split("|").map((part) => {
      const at = part.indexOf(":");
      return { name: part.slice(0, at), label: part.slice(at + 1) };
    });
    this.plot = null;
  }

  // uPlot's data for this chart: times, then per field its values (and minima, maxima).
  columns(data) {
    const cols = [data.t];
    for (const f of this.fields) {
      cols.push(data.values[f.name]);
      if (data.min) cols.push(data.min[f.name], data.max[f.name]);
    }
    return cols;
  }

  draw(data, downsampled) {
    const format = formatter(this.unit);
    const series = [{}];
    const bands = [];
    this.fields.forEach((f, i) => {
      const colour = COLOURS[i % COLOURS.length];
      series.push({ label: f.label, stroke: colour, width: 1.5, value: (u, v) => format(v), spanGaps: false });
      if (downsampled) {
        const at = series.length;
        series.push({ label: f.label + " (min)", stroke: rgba(colour, 0.3), width: 1, value: (u, v) => format(v), band: true });
        series.push({ label: f.label + " (max)", stroke: rgba(colour, 0.3), width: 1, value: (u, v) => format(v), band: true });
        bands.push({ series: [at + 1, at], fill: rgba(colour, 0.12) });
      }
    });
    const options = {
      width: this.width(),
      height: HEIGHT,
      series,
      bands,
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (u, min, max) => [0, Math.max(max || 0, FLOOR[this.unit] || 1)] } },
      axes: [{}, { values: (u, ticks) => ticks.map(format), size: 70 }],
    };
    if (this.plot) this.plot.destroy();
    this.plotArea.replaceChildren();
    this.plot = new uPlot(options, this.columns(data), this.plotArea);
    // The band's edges are series of their own; the legend names only the averages.
    const rows = this.plot.root.querySelectorAll(".u-legend .u-series");
    series.forEach((s, i) => {
      if (s.band && rows[i]) rows[i].classList.add("kv-legend-hidden");
    });
  }

  update(data) {
    if (this.plot) this.plot.setData(this.columns(data));
  }

  width() {
    return Math.max(this.plotArea.clientWidth || this.figure.clientWidth || 600, 240);
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
  }
}

class Graphs {
  constructor(root) {
    this.root = root;
    this.url = root.dataset.url;
    this.range = root.dataset.range || "1h";
    this.charts = [...root.querySelectorAll(".kv-chart")].map((f) => new Chart(f));
    this.data = null;
    this.busy = false;
    this.status = root.querySelector(".kv-graphs-status");
    this.onSignal = () => this.tick();
    this.onResize = () => this.charts.forEach((c) => c.resize());
    document.body.addEventListener("kv:" + root.dataset.signal, this.onSignal);
    document.body.addEventListener("kv:resync", this.onSignal);
    window.addEventListener("resize", this.onResize);
    root.addEventListener("click", (evt) => {
      const button = evt.target.closest(".kv-graphs-range");
      if (!button) return;
      this.range = button.dataset.range;
      root.dataset.range = this.range;
      root.querySelectorAll(".kv-graphs-range").forEach((b) => {
        b.classList.toggle("active", b === button);
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      this.load();
    });
    this.load();
  }

  // Gone from the page (another tab chosen): stop listening.
  gone() {
    if (this.root.isConnected) return false;
    document.body.removeEventListener("kv:" + this.root.dataset.signal, this.onSignal);
    document.body.removeEventListener("kv:resync", this.onSignal);
    window.removeEventListener("resize", this.onResize);
    return true;
  }

  async fetch(since) {
    const params = new URLSearchParams({ range: this.range });
    if (since != null) params.set("since", String(since));
    const response = await fetch(this.url + "?" + params, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(response.status + " " + response.statusText);
    return inUnits(await response.json());
  }

  async load() {
    const range = this.range;
    this.busy = true;
    try {
      const data = await this.fetch(null);
      if (range !== this.range || this.gone()) return;
      this.data = data;
      this.charts.forEach((c) => c.draw(data, data.downsampled));
      this.shown();
    } catch (err) {
      this.say("The graphs could not be read: " + err.message);
    } finally {
      this.busy = false;
    }
  }

  // A tick of the host: fetch what is newer than the last point (downsampled ranges only once a
  // new period can have ended) and append it, dropping what fell out of the range.
  async tick() {
    if (this.gone() || this.busy || !this.data) return;
    const data = this.data;
    const last = data.t.length ? data.t[data.t.length - 1] : null;
    const now = Date.now() / 1000;
    if (data.downsampled && last != null && now < last + 2 * data.step) return;
    const range = this.range;
    this.busy = true;
    try {
      const more = await this.fetch(last);
      if (range !== this.range || this.data !== data || this.gone() || !more.t.length) return;
      this.append(more);
      this.charts.forEach((c) => c.update(this.data));
      this.shown();
    } catch (err) {
      this.say("The graphs could not be updated: " + err.message);
    } finally {
      this.busy = false;
    }
  }

  append(more) {
    const data = this.data;
    const groups = data.min ? ["values", "min", "max"] : ["values"];
    data.t.push(...more.t);
    for (const g of groups) for (const name of Object.keys(data[g])) data[g][name].push(...more[g][name]);
    const oldest = data.t[data.t.length - 1] - RANGE_SECONDS[this.range];
    let drop = 0;
    while (drop < data.t.length && data.t[drop] < oldest) drop++;
    if (drop) {
      data.t.splice(0, drop);
      for (const g of groups) for (const name of Object.keys(data[g])) data[g][name].splice(0, drop);
    }
  }

  shown() {
    const n = this.data.t.length;
    this.root.dataset.points = String(n);
    this.say(n ? "" : "No measurements in this range yet: they start once the monitor has seen the VM or host run for two ticks.");
  }

  say(text) {
    if (this.status) this.status.textContent = text;
  }
}

function start(scope) {
  if (!scope || !scope.querySelectorAll) return;
  const roots = scope.matches && scope.matches("[data-graphs]") ? [scope] : scope.querySelectorAll("[data-graphs]");
  roots.forEach((root) => {
    if (started.has(root)) return;
    started.add(root);
    root.kvGraphs = new Graphs(root);
  });
}

document.addEventListener("htmx:load", (evt) => start(evt.target));
start(document);
