// The situation map, drawn as SVG from the API's GeoJSON (lon/lat, RFC 7946). No tiles:
// an equirectangular projection around the data's centre, in metres, is exact enough for
// a district a few tens of kilometres across.
import { t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const M_PER_DEG_LAT = 110540;
const LAYERS = ["jur", "water", "deep", "nofly", "hot", "launch", "units", "drones", "incidents"];

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.append(node);
  return node;
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

function niceLength(metres) {
  const power = 10 ** Math.floor(Math.log10(metres));
  for (const step of [1, 2, 5, 10]) if (step * power >= metres) return step * power;
  return 10 * power;
}

export class SituationMap {
  constructor(svg, { scaleEl, layersEl, legendEl, infoEl, onIncident }) {
    this.svg = svg;
    this.scaleEl = scaleEl;
    this.layersEl = layersEl;
    this.legendEl = legendEl;
    this.infoEl = infoEl;
    this.onIncident = onIncident || (() => {});
    this.data = { jurisdictions: [], waterways: [], noFly: [], units: [], incidents: [], drones: [] };
    this.visible = Object.fromEntries(LAYERS.map((name) => [name, true]));
    this.origin = null;
    this.view = null;
    this.bindPanZoom();
    new ResizeObserver(() => this.render()).observe(svg);
  }

  project(lon, lat) {
    const { lon0, lat0, kx } = this.origin;
    return [(lon - lon0) * kx, -(lat - lat0) * M_PER_DEG_LAT];
  }

  path(geometry) {
    let d = "";
    for (const polygon of rings(geometry)) {
      for (const ring of polygon) {
        ring.forEach(([lon, lat], index) => {
          const [x, y] = this.project(lon, lat);
          d += `${index ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
        });
        d += "Z";
      }
    }
    return d;
  }

  setData(partial) {
    Object.assign(this.data, partial);
    if (!this.origin && (this.data.waterways.length || this.data.jurisdictions.length)) this.fit();
    this.render();
  }

  bounds(everything = false) {
    const points = [];
    const add = (lon, lat) => { if (Number.isFinite(lon) && Number.isFinite(lat)) points.push([lon, lat]); };
    // Open on the riskiest waters (risk 4-5) when there are any; "fit" shows everything.
    const risky = this.data.waterways.filter((w) => (w.risk_level || 0) >= 4);
    const waters = everything || !risky.length ? this.data.waterways : risky;
    const sources = waters.length ? waters.map((w) => w.area)
      : this.data.jurisdictions.map((j) => j.boundary);
    for (const geometry of sources) for (const polygon of rings(geometry)) for (const ring of polygon) for (const [lon, lat] of ring) add(lon, lat);
    if (everything) for (const unit of this.data.units) add(unit.last_lon, unit.last_lat);
    if (!points.length) return null;
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
  }

  fit(box = this.bounds()) {
    if (!box) return;
    const [w, s, e, n] = box;
    const lat0 = (s + n) / 2;
    this.origin = { lon0: (w + e) / 2, lat0, kx: M_PER_DEG_LAT * Math.cos((lat0 * Math.PI) / 180) };
    const [x1, y1] = this.project(w, n);
    const [x2, y2] = this.project(e, s);
    const pad = 0.08;
    const width = Math.max(x2 - x1, 500) * (1 + pad * 2);
    const height = Math.max(y2 - y1, 500) * (1 + pad * 2);
    this.view = { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: width, h: height };
    this.render();
  }

  fitTo(geometry) {
    const points = rings(geometry).flat(2);
    if (!points.length) return;
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    const [w, s, e, n] = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
    const [x1, y1] = this.project(w, n);
    const [x2, y2] = this.project(e, s);
    this.view = { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: Math.max(x2 - x1, 400) * 1.3, h: Math.max(y2 - y1, 400) * 1.3 };
    this.render();
  }

  metresPerPixel() {
    const rect = this.svg.getBoundingClientRect();
    if (!rect.width || !this.view) return 1;
    return Math.max(this.view.w / rect.width, this.view.h / rect.height);
  }

  zoom(factor, at = null) {
    if (!this.view) return;
    const v = this.view;
    if (at) { v.cx = at[0] + (v.cx - at[0]) * factor; v.cy = at[1] + (v.cy - at[1]) * factor; }
    v.w *= factor; v.h *= factor;
    this.render();
  }

  bindPanZoom() {
    let drag = null;
    this.svg.addEventListener("pointerdown", (event) => {
      if (event.target.closest(".incident")) return;
      drag = { x: event.clientX, y: event.clientY };
      this.svg.setPointerCapture(event.pointerId);
      this.svg.classList.add("dragging");
    });
    this.svg.addEventListener("pointermove", (event) => {
      if (!drag || !this.view) return;
      const mpp = this.metresPerPixel();
      this.view.cx -= (event.clientX - drag.x) * mpp;
      this.view.cy -= (event.clientY - drag.y) * mpp;
      drag = { x: event.clientX, y: event.clientY };
      this.render();
    });
    const end = () => { drag = null; this.svg.classList.remove("dragging"); };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("wheel", (event) => {
      event.preventDefault();
      if (!this.view) return;
      const rect = this.svg.getBoundingClientRect();
      const mpp = this.metresPerPixel();
      const at = [this.view.cx + (event.clientX - rect.left - rect.width / 2) * mpp,
        this.view.cy + (event.clientY - rect.top - rect.height / 2) * mpp];
      this.zoom(event.deltaY > 0 ? 1.25 : 0.8, at);
    }, { passive: false });
  }

  renderControls() {
    if (this.layersEl.childElementCount) {
      if (this.toggleEl) this.toggleEl.textContent = `☰ ${t("layers")}`;
      for (const input of this.layersEl.querySelectorAll("input")) {
        input.nextElementSibling.textContent = t(`layer_${input.value === "units" ? "units" : input.value}`);
      }
    } else {
      // On a phone the layer list and the legend fold into one "layers" button, so that
      // they never cover the map; a tap opens them.
      const wrap = this.layersEl.parentElement;
      if (wrap && window.matchMedia("(max-width: 900px)").matches) wrap.classList.add("compact");
      this.toggleEl = document.createElement("button");
      this.toggleEl.type = "button";
      this.toggleEl.className = "layers-toggle";
      this.toggleEl.addEventListener("click", () => wrap && wrap.classList.toggle("compact"));
      this.layersEl.append(this.toggleEl);
      for (const name of LAYERS) {
        const label = document.createElement("label");
        label.innerHTML = `<input type="checkbox" value="${name}" checked><span></span>`;
        label.querySelector("input").addEventListener("change", (event) => {
          this.visible[name] = event.target.checked;
          this.render();
        });
        this.layersEl.append(label);
      }
      this.jumpEl = document.createElement("div");
      this.jumpEl.className = "map-jump";
      this.layersEl.append(this.jumpEl);
      this.renderControls();
      return;
    }
    if (this.jumpEl && this.jumpEl.childElementCount !== this.data.waterways.length) {
      this.jumpEl.replaceChildren();
      for (const w of this.data.waterways) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = `◎ ${w.name.split(" ")[0]}`;
        button.addEventListener("click", () => this.fitTo(w.area));
        this.jumpEl.append(button);
      }
    }
    this.legendEl.innerHTML = [
      ["#1d4f7a", "layer_water"], ["#60a5fa", "layer_deep"], ["#ef4444", "layer_nofly"],
      ["#f59e0b", "layer_hot"], ["#22c55e", "layer_units"], ["#38bdf8", "layer_drones"],
      ["#ef4444", "layer_incidents"], ["#a3e635", "layer_launch"],
    ].map(([colour, key]) => `<span><i style="background:${colour}"></i>${t(key)}</span>`).join("");
  }

  render() {
    this.renderControls();
    const svg = this.svg;
    svg.replaceChildren();
    if (!this.view) return;
    const rect = svg.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const mpp = this.metresPerPixel();
    const vw = rect.width * mpp;
    const vh = rect.height * mpp;
    svg.setAttribute("viewBox", `${this.view.cx - vw / 2} ${this.view.cy - vh / 2} ${vw} ${vh}`);
    const px = (n) => n * mpp;
    const defs = el("defs", {}, svg);
    const hatch = (id, colour) => {
      const pattern = el("pattern", { id, patternUnits: "userSpaceOnUse", width: px(8), height: px(8), patternTransform: "rotate(45)" }, defs);
      el("rect", { width: px(8), height: px(8), fill: colour === "#ef4444" ? "#ef444422" : "#12355a88" }, pattern);
      el("line", { x1: 0, y1: 0, x2: 0, y2: px(8), stroke: colour, "stroke-width": px(1.4), "stroke-opacity": 0.7 }, pattern);
    };
    hatch("hatch-nofly", "#ef4444");
    hatch("hatch-deep", "#60a5fa");
    const layer = (name) => el("g", { class: `layer-${name}`, "data-layer": name, visibility: this.visible[name] ? "visible" : "hidden" }, svg);
    const label = (parent, x, y, text, dx = 8) => {
      const node = el("text", { x: x + px(dx), y: y + px(4), class: "label", style: `font-size:${px(11)}px;stroke-width:${px(3)}px` }, parent);
      node.textContent = text;
    };

    const jur = layer("jur");
    for (const j of this.data.jurisdictions) {
      if (!j.boundary || j.kind === "community") continue;
      el("path", { d: this.path(j.boundary), class: "jur" }, jur);
    }
    const water = layer("water");
    const deep = layer("deep");
    const hot = layer("hot");
    const launch = layer("launch");
    for (const w of this.data.waterways) {
      const area = el("path", { d: this.path(w.area), class: "water" }, water);
      el("title", {}, area).textContent = w.name;
      for (const zone of w.deep_water_zones || []) {
        el("path", { d: this.path(zone.area), class: "deep" }, deep);
      }
      for (const spot of w.hot_spots || []) {
        const [x, y] = this.project(spot.lon, spot.lat);
        const s = px(6);
        el("path", { d: `M${x} ${y - s}L${x + s} ${y}L${x} ${y + s}L${x - s} ${y}Z`, class: "hot", "stroke-width": px(1) }, hot);
        label(hot, x, y, spot.name);
      }
      for (const point of w.launch_points || []) {
        const [x, y] = this.project(point.lon, point.lat);
        const s = px(5);
        el("path", { d: `M${x} ${y - s}L${x + s} ${y + s}L${x - s} ${y + s}Z`, class: "launch" }, launch);
      }
      const first = rings(w.area)[0];
      if (first) {
        const ring = first[0];
        const [x, y] = this.project(ring[0][0], ring[0][1]);
        const node = el("text", { x, y: y - px(6), class: "label", style: `font-size:${px(12)}px;stroke-width:${px(3)}px;fill:#93c5fd` }, water);
        node.textContent = w.name;
      }
    }
    const nofly = layer("nofly");
    for (const zone of this.data.noFly) {
      const shape = el("path", { d: this.path(zone.area), class: "nofly" }, nofly);
      el("title", {}, shape).textContent = `${zone.name}${zone.reason ? ` · ${zone.reason}` : ""}`;
    }
    const units = layer("units");
    for (const unit of this.data.units) {
      if (unit.last_lon == null) continue;
      const [x, y] = this.project(unit.last_lon, unit.last_lat);
      el("rect", { x: x - px(6), y: y - px(6), width: px(12), height: px(12), rx: px(2), class: "unit", "stroke-width": px(1.5) }, units);
      label(units, x, y, unit.call_sign, 9);
    }
    const drones = layer("drones");
    for (const drone of this.data.drones) {
      const [x, y] = this.project(drone.lon, drone.lat);
      const s = px(8);
      el("path", { d: `M${x} ${y - s}L${x + s * 0.7} ${y + s * 0.7}L${x} ${y + s * 0.3}L${x - s * 0.7} ${y + s * 0.7}Z`, class: "drone", "stroke-width": px(1.2) }, drones);
      label(drones, x, y, `${drone.name || `#${drone.drone_id}`}${drone.battery_pct != null ? ` ${Math.round(drone.battery_pct)}%` : ""}`, 10);
    }
    const incidents = layer("incidents");
    for (const incident of this.data.incidents) {
      const [x, y] = this.project(incident.lon, incident.lat);
      el("circle", { cx: x, cy: y, r: px(7), class: "pulse", "stroke-width": px(2) }, incidents);
      const dot = el("circle", { cx: x, cy: y, r: px(7), class: "incident", "stroke-width": px(1.5), "data-incident": incident.id }, incidents);
      dot.addEventListener("click", () => this.onIncident(incident));
      const count = el("text", { x, y: y + px(3.5), "text-anchor": "middle", style: `font-size:${px(10)}px;font-weight:700;fill:#fff;pointer-events:none` }, incidents);
      count.textContent = String(incident.people_count);
    }
    this.renderScale(mpp);
  }

  renderScale(mpp) {
    const metres = niceLength(mpp * 110);
    const bar = this.scaleEl.querySelector(".scale-bar");
    bar.style.width = `${metres / mpp}px`;
    this.scaleEl.querySelector("span").textContent = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  }
}
