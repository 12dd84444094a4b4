// CPU sparklines in the VM list (the vCPUs cell of compute/_vm_row.html): the last half hour of
// each VM's CPU, per minute. One request answers every sparkline on the page, made when rows
// arrive (the page, a re-read of the table, a row pushed live), and again once a minute while
// the host ticks go on; a list of 200 rows costs one request and one Redis round trip.
// It also fires kv:stats-minute on the body at the first host tick of each minute, when the
// minute averages are new (the busiest VMs page re-reads itself on it).

const SVG = "http://www.w3.org/2000/svg";
const W = 60;
const H = 16;
let url = null;
let timer = null;
let minute = 0;

function draw(elt, line) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("aria-hidden", "true");
  const base = document.createElementNS(SVG, "line");
  base.setAttribute("class", "vm-spark-base");
  base.setAttribute("x1", "0");
  base.setAttribute("x2", String(W));
  base.setAttribute("y1", String(H - 0.5));
  base.setAttribute("y2", String(H - 0.5));
  svg.append(base);
  const step = W / Math.max(line.length - 1, 1);
  let points = [];
  const flush = () => {
    if (points.length > 1) {
      const poly = document.createElementNS(SVG, "polyline");
      poly.setAttribute("points", points.join(" "));
      svg.append(poly);
    }
    points = [];
  };
  line.forEach((v, i) => {
    if (v == null) return flush();
    points.push(`${(i * step).toFixed(1)},${(H - 1 - (Math.min(v, 100) / 100) * (H - 2)).toFixed(1)}`);
  });
  flush();
  elt.replaceChildren(svg);
  const last = [...line].reverse().find((v) => v != null);
  elt.title = last == null ? "" : `CPU over the last 30 minutes, now ${last} % of its vCPUs`;
  elt.dataset.sparkPoints = String(line.filter((v) => v != null).length);
}

async function read(all) {
  timer = null;
  const wanted = [...document.querySelectorAll("[data-spark]")].filter((e) => all || !e.dataset.sparkRead);
  if (!wanted.length) return;
  if (!url) {
    const holder = document.querySelector("[data-spark-url]");
    if (!holder) return;
    url = holder.dataset.sparkUrl;
  }
  wanted.forEach((e) => (e.dataset.sparkRead = "1"));
  const params = new URLSearchParams();
  wanted.forEach((e) => params.append("vm", e.dataset.spark));
  try {
    const response = await fetch(url + "?" + params, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const lines = await response.json();
    wanted.forEach((e) => {
      if (lines[e.dataset.spark]) draw(e, lines[e.dataset.spark]);
    });
  } catch (err) {
    // A list without sparklines is still a list; the next round tries again.
  }
}

function soon(all) {
  if (timer) return;
  timer = setTimeout(() => read(all), 50);
}

document.addEventListener("htmx:load", () => soon(false));
document.addEventListener("htmx:wsAfterMessage", (evt) => {
  if (!String(evt.detail.message).includes("kv-signal:stats-")) return;
  const now = Math.floor(Date.now() / 60000);
  if (now === minute) return;
  const first = minute === 0;
  minute = now;
  if (first) return; // the page was just read
  soon(true);
  htmx.trigger(document.body, "kv:stats-minute");
});
soon(false);
