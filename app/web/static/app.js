// Waterguard dashboard: login, role-based views, live updates. No build step, no network
// beyond this server.
import * as api from "./api.js";
import { applyStrings, currentLang, t, toggleLang } from "./i18n.js";
import { SituationMap } from "./map.js";

const config = JSON.parse(document.querySelector('meta[name="wg-config"]').content);
const ZONE = config.timezone || "Asia/Shanghai";
const OPEN = new Set(["detected", "warned", "escalated", "dispatched", "acknowledged", "on_scene"]);
const POLL_MS = Number(sessionStorage.getItem("wg.poll_ms")) || 5000;
const VIEWS_BY_ROLE = {
  admin: ["map", "ops", "stats", "unit"],
  command: ["stats", "map", "ops"],
  operator: ["map", "ops", "stats"],
  station_officer: ["map", "ops", "stats"],
  ground_unit: ["unit", "map"],
  grid_worker: [],
};

const $ = (selector, root = document) => root.querySelector(selector);
const state = {
  me: null, view: null, jurisdictions: new Map(), waterways: new Map(), units: [],
  incidents: [], drones: new Map(), map: null, charts: {}, stops: [], timers: [],
  unitIncidents: new Map(), statsLoaded: false,
  sorties: null, dock: new Map(), dockOpen: new Set(), dockBusy: new Set(), dockErrors: new Map(),
  dockConfirm: null,
};

// -- formatting ------------------------------------------------------------------------
function fmtTime(iso, withDate = true) {
  if (!iso) return "–";
  const options = { timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  if (withDate) Object.assign(options, { month: "2-digit", day: "2-digit" });
  return new Intl.DateTimeFormat(currentLang(), options).format(new Date(iso));
}
function localToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(new Date());
}
function elapsed(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 120) return t("seconds_ago", { n: s });
  if (s < 7200) return t("minutes_ago", { n: Math.round(s / 60) });
  return t("hours_ago", { n: Math.round(s / 3600) });
}
function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
function jurName(id) {
  const j = state.jurisdictions.get(id);
  if (!j) return id ? `#${id}` : "–";
  return currentLang() === "zh-CN" ? j.name_zh : j.name_en;
}
function placeOf(incident) {
  const w = state.waterways.get(incident.waterway_id);
  return `${w ? w.name.split(" ")[0] : jurName(incident.station_id)}`;
}
function shortWater(id) {
  const w = state.waterways.get(id);
  return w ? w.name.split(" ")[0] : `#${id}`;
}
function flags(incident) {
  return [
    incident.has_deep_water ? `<span class="flag deep">${t("deep_short")}</span>` : "",
    incident.has_suspected_minor ? `<span class="flag minor">${t("minor_short")}</span>` : "",
    incident.is_night ? `<span class="flag night">${t("night_short")}</span>` : "",
  ].join("");
}
// An incident the drone's warning ended has no outcome of its own: it was cleared from the air.
function outcomeText(incident) {
  if (incident.outcome) return t(`outcome_${incident.outcome}`);
  return incident.cleared_at ? t("outcome_cleared_from_air") : "";
}
function stateTag(value) { return `<span class="state ${esc(value)}">${esc(t(`st_${value}`))}</span>`; }

let toastTimer = null;
function toast(text, bad = false) {
  const node = $("#toast");
  node.textContent = text;
  node.classList.toggle("bad", bad);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}
async function act(promise, okKey) {
  try {
    await promise;
    toast(t(okKey));
    return true;
  } catch (error) {
    toast(`${t("action_failed")}: ${error.message}`, true);
    return false;
  }
}

async function listAll(path) {
  try {
    const page = await api.get(`${path}${path.includes("?") ? "&" : "?"}limit=500`);
    return page.items || [];
  } catch (error) {
    if (error.status === 403 || error.status === 404) return null;
    throw error;
  }
}

// -- login and shell ---------------------------------------------------------------------
function showLogin() {
  for (const stop of state.stops) stop();
  for (const timer of state.timers) clearInterval(timer);
  state.stops = []; state.timers = [];
  $("#shell").hidden = true;
  $("#login").hidden = false;
  $("#username").focus();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#login-error").textContent = "";
  $("#login-submit").disabled = true;
  try {
    await api.login($("#username").value.trim(), $("#password").value, $("#otp").value.trim());
    $("#password").value = "";
    $("#otp").value = "";
    await start();
  } catch (error) {
    $("#login-error").textContent = error.status === 429 ? t("login_locked") : t("login_failed");
  } finally {
    $("#login-submit").disabled = false;
  }
});
$("#logout").addEventListener("click", async () => { await api.logout(); showLogin(); });
for (const button of document.querySelectorAll(".lang-toggle")) {
  button.addEventListener("click", () => { toggleLang(); rerender(); });
}
api.setLoggedOutHandler(showLogin);

async function start() {
  state.me = await api.get("/auth/me");
  // Another user may log in on this page: nothing of the last one's dock flights carries over.
  state.dock.clear(); state.dockOpen.clear(); state.dockErrors.clear(); state.dockConfirm = null;
  $("#login").hidden = true;
  $("#shell").hidden = false;
  const views = VIEWS_BY_ROLE[state.me.role] || [];
  renderWhoami();
  const nav = $("#nav");
  nav.innerHTML = views.map((v) => `<a href="#${v}" data-view="${v}"><span data-i18n="nav_${v}"></span>${v === "map" || v === "ops" ? ' <b class="badge open-badge">0</b>' : ""}</a>`).join("");
  applyStrings();
  await loadReference();
  state.timers.push(setInterval(tickClock, 1000));
  tickClock();
  startLive();
  state.timers.push(setInterval(() => refreshIncidents().catch(() => {}), POLL_MS));
  state.timers.push(setInterval(() => { if (state.view === "ops") refreshDock().catch(() => {}); }, POLL_MS));
  await refreshIncidents();
  const wanted = location.hash.slice(1);
  showView(views.includes(wanted) ? wanted : views[0] || "none");
}

function renderWhoami() {
  if (state.me) $("#whoami").textContent = `${state.me.display_name} · ${t(`role_${state.me.role}`)}`;
}

function tickClock() {
  $("#clock").textContent = new Intl.DateTimeFormat(currentLang(), {
    timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hour12: false,
  }).format(new Date());
}

window.addEventListener("hashchange", () => {
  if (!state.me) return;
  const views = VIEWS_BY_ROLE[state.me.role] || [];
  const wanted = location.hash.slice(1);
  if (views.includes(wanted)) showView(wanted);
});

function showView(name) {
  state.view = name;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.dataset.view === name);
  if (location.hash.slice(1) !== name && name !== "none") history.replaceState(null, "", `#${name}`);
  if (name === "map") openMap();
  if (name === "ops") renderOps();
  if (name === "unit") refreshUnit();
  if (name === "stats") openStats();
}

function rerender() {
  applyStrings();
  if (!state.me) return;
  tickClock();
  renderWhoami();
  if (state.map) state.map.render();
  renderSide();
  if (state.view === "ops") renderOps();
  if (state.view === "unit") renderUnit();
  if (state.view === "stats" && state.statsLoaded) loadStats();
}

// -- reference data ----------------------------------------------------------------------
async function loadReference() {
  const [jurisdictions, waterways, units, drones] = await Promise.all([
    listAll("/jurisdictions"), listAll("/waterways"), listAll("/units"), listAll("/drones"),
  ]);
  state.droneNames = new Map((drones || []).map((d) => [d.id, d.name]));
  state.jurisdictions = new Map((jurisdictions || []).map((j) => [j.id, j]));
  state.waterways = new Map((waterways || []).map((w) => [w.id, w]));
  state.units = units || [];
  const root = [...state.jurisdictions.values()].find((j) => j.id === state.me.jurisdiction_id);
  $("#district").textContent = root ? (currentLang() === "zh-CN" ? root.name_zh : root.name_en) : state.me.jurisdiction_code;
}

// -- live --------------------------------------------------------------------------------
function setLive(key, isOpen) {
  state.live = { ...(state.live || {}), [key]: isOpen };
  const any = Object.values(state.live).some(Boolean);
  $("#live").classList.toggle("off", !any);
  $("#live").title = Object.entries(state.live).map(([k, v]) => `${k}: ${v ? "on" : "off"}`).join(" · ");
}

function startLive() {
  state.stops.push(api.follow("/alerts/stream", {
    onState: (open) => setLive("alerts", open),
    onEvent: (kind, alert) => onAlert(kind, alert),
  }));
  state.stops.push(api.follow("/sorties/live", {
    onState: (open) => setLive("sorties", open),
    onEvent: (kind, data) => onSortieEvent(kind, data),
    onMissing: () => setLive("sorties", false),
  }));
  if (state.me.role === "ground_unit") startPositionReports();
}

// -- the unit's own position: its terminal (this phone) reports it, dispatch uses it -------
const POSITION_EVERY_MS = 15000;
function startPositionReports() {
  const unitId = state.me.ground_unit_id;
  if (!unitId || !navigator.geolocation) return;
  let lastSent = 0;
  const watch = navigator.geolocation.watchPosition((fix) => {
    const now = Date.now();
    if (now - lastSent < POSITION_EVERY_MS) return;
    lastSent = now;
    const body = { lon: fix.coords.longitude, lat: fix.coords.latitude, at: new Date(fix.timestamp || now).toISOString() };
    api.post(`/units/${unitId}/position`, body).then((unit) => {
      state.units = state.units.map((u) => (u.id === unit.id ? unit : u));
      if (state.map) state.map.setData({ units: state.units });
      $("#unit-fix").textContent = `${t("last_fix")} ${fmtTime(unit.last_position_at, false)}`;
    }).catch(() => {});
  }, () => { $("#unit-fix").textContent = t("no_fix"); }, { enableHighAccuracy: true, maximumAge: 10000 });
  state.stops.push(() => navigator.geolocation.clearWatch(watch));
}

// -- alerts that reach a person: a system notification and a tone where the browser allows --
function beep() {
  try {
    const Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return;
    state.audio = state.audio || new Audio();
    const ctx = state.audio;
    for (const [index, freq] of [880, 660, 880].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + index * 0.25);
      osc.stop(ctx.currentTime + index * 0.25 + 0.2);
    }
  } catch { /* no audio here */ }
}
function notify(title, body, tag) {
  beep();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try { new Notification(title, { body, tag, renotify: true, requireInteraction: true }); } catch { /* needs a service worker here */ }
}
function renderAlertSwitch() {
  const button = $("#unit-notify");
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
}
$("#unit-notify").addEventListener("click", async () => {
  // Asked on a tap: browsers allow the prompt (and sound) only after a user gesture.
  if (window.AudioContext && !state.audio) state.audio = new window.AudioContext();
  if ("Notification" in window) await Notification.requestPermission();
  renderAlertSwitch();
});

function onAlert(kind, alert) {
  if (!alert || typeof alert !== "object") return;
  const payload = alert.payload || {};
  if (alert.incident_id && (kind === "dispatch" || kind === "escalation" || kind === "ack_expired")) {
    const text = `${t("new_alert")}#${alert.incident_id} ${payload.people_count ? t("people_n", { n: payload.people_count }) : ""}`;
    toast(text);
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    // Only a dispatch still waiting for this unit rings: the stream also replays earlier
    // alerts after a login, and those incidents may long be over.
    if (kind === "dispatch" && !state.unitIncidents.has(alert.incident_id)) {
      api.get(`/incidents/${alert.incident_id}`).then((incident) => {
        if (["escalated", "dispatched"].includes(incident.state)) notify(t("brand_short"), text, `incident-${alert.incident_id}`);
      }).catch(() => {});
    }
    state.unitIncidents.set(alert.incident_id, { alertId: alert.id, incident: null });
    api.post(`/alerts/${alert.id}/receipt`).catch(() => {});
  }
  refreshIncidents().catch(() => {});
  if (state.view === "unit") refreshUnit();
  if (state.view === "stats") loadStats();
}

function named(position) {
  const name = state.droneNames && state.droneNames.get(position.drone_id);
  return name ? { ...position, name } : position;
}

function onSortieEvent(kind, data) {
  if (kind === "position" && data && data.sortie_id) {
    data = named(data);
    if (["landed", "aborted"].includes(data.status)) state.drones.delete(data.sortie_id);
    else state.drones.set(data.sortie_id, data);
    if (state.map) state.map.setData({ drones: [...state.drones.values()] });
    renderSide();
    if (state.view === "unit" && !state.picking) renderUnit();
  } else if (kind === "state" && data && ["landed", "aborted"].includes(data.data?.to)) {
    state.drones.delete(data.sortie_id);
    if (state.map) state.map.setData({ drones: [...state.drones.values()] });
  }
}

// The newest 500 incidents; when there are more, open ones further back are fetched by
// state so that no open incident is ever missing from the queue or the map.
async function incidentList() {
  let page;
  try { page = await api.get("/incidents?limit=500"); } catch (error) {
    if (error.status === 403 || error.status === 404) return null;
    throw error;
  }
  const items = page.items || [];
  if (page.total <= items.length) return items;
  const seen = new Set(items.map((i) => i.id));
  const more = await Promise.all([...OPEN].map((s) => listAll(`/incidents?state=${s}`)));
  for (const incident of more.flat()) {
    if (incident && !seen.has(incident.id)) { seen.add(incident.id); items.push(incident); }
  }
  return items;
}

async function refreshIncidents() {
  const [items, units] = await Promise.all([incidentList(), listAll("/units")]);
  if (units) {
    state.units = units;
    if (state.map) state.map.setData({ units });
  }
  if (items === null) return;
  state.incidents = items;
  const open = items.filter((i) => OPEN.has(i.state));
  for (const badge of document.querySelectorAll(".open-badge")) {
    badge.textContent = open.length;
    badge.classList.toggle("hot", open.length > 0);
  }
  if (state.map) state.map.setData({ incidents: open });
  renderSide();
  if (state.view === "ops") renderQueue();
}

// -- map ---------------------------------------------------------------------------------
async function openMap() {
  if (!state.map) {
    state.map = new SituationMap($("#map"), {
      scaleEl: $("#scale"), layersEl: $("#map-layers"), legendEl: $("#map-legend"), infoEl: $("#map-info"),
      onIncident: (incident) => showIncidentInfo(incident),
    });
    $("#zoom-in").addEventListener("click", () => state.map.zoom(0.7));
    $("#zoom-out").addEventListener("click", () => state.map.zoom(1.4));
    $("#zoom-fit").addEventListener("click", () => state.map.fit(state.map.bounds(true)));
    const [noFly, live] = await Promise.all([
      listAll("/no-fly-zones"),
      api.get("/sorties/live").catch(() => null),
    ]);
    for (const position of (live && live.positions) || []) state.drones.set(position.sortie_id, named(position));
    state.map.setData({
      jurisdictions: [...state.jurisdictions.values()], waterways: [...state.waterways.values()],
      noFly: noFly || [], units: state.units, drones: [...state.drones.values()],
      incidents: state.incidents.filter((i) => OPEN.has(i.state)),
    });
  }
  state.map.render();
  renderSide();
}

function showIncidentInfo(incident) {
  const info = $("#map-info");
  info.innerHTML = `<b>#${incident.id}</b> ${stateTag(incident.state)} ${flags(incident)}<br>${esc(placeOf(incident))} · ${t("people_n", { n: incident.people_count })} · ${fmtTime(incident.detected_at)}`;
  info.hidden = false;
  setTimeout(() => { info.hidden = true; }, 6000);
}

function renderSide() {
  const open = state.incidents.filter((i) => OPEN.has(i.state));
  $("#open-count").textContent = open.length;
  $("#side-incidents").innerHTML = open.map((i) => `
    <div class="item ${["detected", "escalated"].includes(i.state) ? "alarm" : "busy"}" data-incident="${i.id}">
      <div class="row"><b>#${i.id} ${esc(placeOf(i))}</b>${stateTag(i.state)}</div>
      <div class="row sub"><span>${t("people_n", { n: i.people_count })} ${flags(i)}</span><span>${fmtTime(i.detected_at, false)} · ${elapsed(i.detected_at)}</span></div>
    </div>`).join("") || `<div class="empty">–</div>`;
  for (const node of document.querySelectorAll("#side-incidents .item")) {
    node.addEventListener("click", () => {
      const incident = state.incidents.find((i) => i.id === Number(node.dataset.incident));
      if (incident) showIncidentInfo(incident);
    });
  }
  const drones = [...state.drones.values()];
  $("#drone-count").textContent = drones.length;
  $("#side-drones").innerHTML = drones.map((d) => `
    <div class="item fine"><div class="row"><b>${esc(d.name || `#${d.drone_id}`)}</b><span>${esc(t(`sortie_${d.status}`))}</span></div>
    <div class="row sub"><span>${t("alt")} ${d.alt_m != null ? Math.round(d.alt_m) : "–"} m · ${t("battery")} ${d.battery_pct != null ? Math.round(d.battery_pct) : "–"}%</span><span>${fmtTime(d.at, false)}</span></div></div>`).join("") || `<div class="empty">–</div>`;
  $("#unit-count").textContent = state.units.length;
  $("#side-units").innerHTML = state.units.map((u) => `
    <div class="item ${u.status === "available" ? "fine" : "busy"}"><div class="row"><b>${esc(u.call_sign)}</b><span>${esc(t(`unit_${u.status}`))}</span></div>
    <div class="row sub"><span>${esc(jurName(u.station_id))}</span><span>${u.last_position_at ? `${t("last_fix")} ${fmtTime(u.last_position_at, false)}` : ""}</span></div></div>`).join("");
}

// -- operator ----------------------------------------------------------------------------
const OUTCOMES = ["dissuaded", "rescued", "nobody_found", "false_alarm"];

function renderQueue() {
  const showAll = $("#queue-all").checked;
  const rows = state.incidents
    .filter((i) => showAll || OPEN.has(i.state))
    .sort((a, b) => (OPEN.has(b.state) - OPEN.has(a.state)) || b.detected_at.localeCompare(a.detected_at));
  $("#queue-count").textContent = rows.length;
  const canWarn = ["detected", "warned"];
  const canEscalate = ["detected", "warned"];
  $("#queue tbody").innerHTML = rows.map((i) => `
    <tr data-id="${i.id}">
      <td class="num">${i.id}</td><td>${fmtTime(i.detected_at)}</td><td>${esc(placeOf(i))}</td>
      <td class="num">${i.people_count}</td><td>${flags(i)}</td><td>${stateTag(i.state)}</td>
      <td>${OPEN.has(i.state) ? elapsed(i.detected_at) : "–"}</td>
      <td class="actions">${OPEN.has(i.state) ? `<div class="acts">
        <button class="warn" data-act="warn" ${canWarn.includes(i.state) ? "" : "disabled"}>${t("warn")}</button>
        <button class="warn" data-act="air" ${canWarn.includes(i.state) ? "" : "disabled"}>${t("air_warn")}</button>
        <button class="danger" data-act="escalate" ${canEscalate.includes(i.state) ? "" : "disabled"}>${t("escalate")}</button>
        <select data-outcome>${OUTCOMES.map((o) => `<option value="${o}">${t(`outcome_${o}`)}</option>`).join("")}</select>
        <button class="ok" data-act="resolve">${t("resolve")}</button></div>` : esc(outcomeText(i))}</td>
    </tr>`).join("");
}

$("#queue").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-act]");
  if (!button) return;
  const row = button.closest("tr");
  const id = Number(row.dataset.id);
  const incident = state.incidents.find((i) => i.id === id);
  button.disabled = true;
  if (button.dataset.act === "warn") {
    const key = incident && incident.has_suspected_minor ? "children" : incident && incident.has_deep_water ? "deep_water" : "guide_to_bank";
    await act(api.post(`/incidents/${id}/warnings`, { modes: ["voice", "light"], message_key: key, language: "zh-CN" }), "warned_ok");
  } else if (button.dataset.act === "air") {
    // The nearest live dock aircraft in reach plays the warning (speaker_tts_play_start).
    const key = incident && incident.has_suspected_minor ? "children" : incident && incident.has_deep_water ? "deep_water" : "guide_to_bank";
    const reach = await api.get(`/dji/incidents/${id}/aircraft`).catch(() => []);
    const drone = reach.find((c) => c.in_reach);
    if (!drone) toast(t("no_drone_in_reach"), true);
    else if (await act(api.post(`/dji/incidents/${id}/speaker`, { message_key: key, language: currentLang() === "en" ? "en" : "zh-CN", gateway_id: drone.gateway_id }), "air_warned_ok")) {
      toast(`${t("air_warned_ok")}: ${drone.gateway_name} · ${drone.distance_m != null ? Math.round(drone.distance_m) : "–"} m`);
    }
  } else if (button.dataset.act === "escalate") {
    await act(api.post(`/incidents/${id}/escalate`), "escalated_ok");
  } else if (button.dataset.act === "resolve") {
    await act(api.post(`/incidents/${id}/resolve`, { outcome: $("select[data-outcome]", row).value }), "resolved_ok");
  }
  await refreshIncidents();
});
$("#queue-all").addEventListener("change", renderQueue);

async function renderOps() {
  renderQueue();
  const [missions, sorties, drones, schedules] = await Promise.all([
    listAll("/missions"), listAll("/sorties"), listAll("/drones"), listAll("/schedules"),
  ]);
  $("#schedules tbody").innerHTML = schedules === null ? `<tr><td colspan="6">${t("unavailable")}</td></tr>`
    : schedules.map((s) => `<tr><td class="num">${s.id}</td><td>${esc(s.name)}</td><td>${esc(s.window_start)}–${esc(s.window_end)}</td>
      <td class="num">${Math.round(s.every_s / 60)} ${t("minutes")}</td><td title="${esc(s.rrule)}">${esc(s.rrule.replace(/^FREQ=/, ""))}</td>
      <td>${s.is_active ? t("active") : t("paused")}</td></tr>`).join("");
  state.sortieDrones = new Map((drones || []).map((d) => [d.id, d.name]));
  if (sorties) sorties.sort((a, b) => b.planned_start.localeCompare(a.planned_start));
  $("#missions tbody").innerHTML = missions === null ? `<tr><td colspan="6">${t("unavailable")}</td></tr>`
    : missions.map((m) => `<tr><td class="num">${m.id}</td><td title="${esc(m.name)}">${esc(m.name)}</td><td>${esc(shortWater(m.waterway_id))}</td>
      <td>${esc(m.pattern)}</td><td class="num">${m.length_m != null ? (m.length_m / 1000).toFixed(1) + " km" : "–"}</td>
      <td class="num">${m.duration_s != null ? Math.round(m.duration_s / 60) + " " + t("minutes") : "–"}</td></tr>`).join("");
  state.sorties = sorties === null ? null : sorties.slice(0, 100);
  renderSorties();
  await refreshDock();
}

// -- dock flights: a sortie a DJI dock flies as a wayline task; pause, resume, recall ------
// Who may read and command them (app/dji/flight_router.py DockOperator). Sorties in the air
// show their dock flight by themselves; a click on any other sortie shows (or hides) it.
const DOCK_ROLES = new Set(["operator", "command"]);
const FLYING_SORTIES = new Set(["preflight", "airborne", "returning"]);
// What a command the dock carried out changes; a 200 without it is a code the dock refused.
const DOCK_EFFECT = {
  pause: (f) => f.paused,
  resume: (f) => !f.paused,
  "return-home": (f) => f.state === "returning",
};
const DOCK_HINT = { 409: "dock_err_409", 503: "dock_err_503" };

function canCommandDocks() { return Boolean(state.me) && DOCK_ROLES.has(state.me.role); }

function dockWatched(sortie) {
  return canCommandDocks() && (FLYING_SORTIES.has(sortie.status) || state.dockOpen.has(sortie.id));
}

function renderSorties() {
  const sorties = state.sorties;
  const names = state.sortieDrones || new Map();
  const clickable = canCommandDocks();
  $("#sorties tbody").innerHTML = sorties === null ? `<tr><td colspan="5">${t("unavailable")}</td></tr>`
    : sorties.map((s) => `<tr data-sortie="${s.id}"${clickable ? ` class="clickable" title="${esc(t("dock_open_hint"))}"` : ""}><td class="num">${s.id}</td><td>${fmtTime(s.planned_start)}</td><td>${esc(names.get(s.drone_id) || `#${s.drone_id}`)}</td>
      <td>${esc(shortWater(s.waterway_id))}</td><td>${esc(t(`sortie_${s.status}`))}</td></tr>${dockWatched(s) ? `<tr class="dock-row" data-dock="${s.id}"><td colspan="5"></td></tr>` : ""}`).join("");
  for (const row of document.querySelectorAll("#sorties tr[data-dock]")) renderDockRow(Number(row.dataset.dock));
}

// The sortie's dock flight task, or null when it has none (409) or is not this user's (403/404).
// Any other failure keeps what was known; the next poll tries again.
async function loadDock(id) {
  try {
    state.dock.set(id, await api.get(`/dji/flights/${id}`));
  } catch (error) {
    if ([403, 404, 409].includes(error.status)) state.dock.set(id, null);
  }
}

// Fetches the dock flights of the sorties on screen; redraws only those that changed (so a
// button is not replaced under the pointer for nothing).
async function refreshDock() {
  if (!canCommandDocks() || !state.sorties) return;
  const ids = state.sorties.filter(dockWatched).map((s) => s.id).filter((id) => !state.dockBusy.has(id));
  await Promise.all(ids.map(async (id) => {
    const before = JSON.stringify(state.dock.get(id));
    await loadDock(id);
    if (JSON.stringify(state.dock.get(id)) !== before) renderDockRow(id);
  }));
}

function dockActions(f) {
  const acts = [];
  if (f.state === "airborne" && !f.paused) acts.push("pause");
  if (f.paused && ["airborne", "returning"].includes(f.state)) acts.push("resume");
  if (f.state === "airborne") acts.push("return-home");
  return acts;
}

function dockButtons(id, f) {
  if (!canCommandDocks()) return "";
  if (state.dockBusy.has(id)) return `<div class="acts"><span class="sub">${esc(t("dock_sending"))}</span></div>`;
  const acts = dockActions(f);
  if (state.dockConfirm === id && acts.includes("return-home")) {
    return `<div class="acts confirm" role="alertdialog"><span>${esc(t("dock_confirm_return"))}</span>
      <button class="danger" data-dock-act="confirm-return">${esc(t("dock_return_home"))}</button>
      <button data-dock-act="cancel">${esc(t("cancel"))}</button></div>`;
  }
  if (!acts.length) return "";
  const style = { pause: "warn", resume: "ok", "return-home": "danger" };
  return `<div class="acts">${acts.map((a) => `<button class="${style[a]}" data-dock-act="${a}">${esc(t(`dock_${a.replace("-", "_")}`))}</button>`).join("")}</div>`;
}

function dockBlock(id) {
  const f = state.dock.get(id);
  if (f === undefined) return "";
  if (f === null) return state.dockOpen.has(id) ? `<div class="dock none">${esc(t("dock_none"))}</div>` : "";
  const reason = currentLang() === "zh-CN" ? f.reason_zh || f.reason_en : f.reason_en || f.reason_zh;
  const fact = (key, value, field) => `<span class="fact" data-field="${field}"><span class="k">${esc(t(key))}</span> ${value}</span>`;
  const dji = [f.dji_status ? esc(f.dji_status) : "–", f.dji_result != null ? `${esc(t("dock_result"))} ${f.dji_result}` : ""].filter(Boolean).join(" · ");
  const error = state.dockErrors.get(id);
  const errorText = error && `${fmtTime(error.at, false)} ${dockFailure(error)}`;
  return `<div class="dock ${f.paused ? "paused" : ""}" data-state="${esc(f.state)}">
    <div class="dock-head"><b>${esc(t("dock_flight"))}</b><span class="state dock-${esc(f.state)}">${esc(t(`dock_st_${f.state}`))}</span>
      <span class="fact paused-${f.paused ? "yes" : "no"}" data-field="paused">${esc(t(f.paused ? "dock_paused_yes" : "dock_paused_no"))}</span></div>
    <div class="facts">
      ${fact("dock_waypoint", f.waypoint_index != null ? f.waypoint_index : "–", "waypoint")}
      ${fact("dock_dji", dji, "dji")}
      ${f.offline_at ? fact("dock_offline", `${fmtTime(f.offline_at)} · ${elapsed(f.offline_at)}`, "offline") : ""}
      ${f.live_state ? fact("dock_live", dockLive(f), "live") : ""}
    </div>
    ${reason ? `<div class="dock-reason"><span class="k">${esc(t("dock_reason"))}</span> ${esc(reason)}</div>` : ""}
    ${error ? `<div class="dock-error error" role="alert">${esc(errorText)}</div>` : ""}
    ${dockButtons(id, f)}</div>`;
}

// The flight's live video: its state, lens and the detection job reading it (or why it failed).
function dockLive(f) {
  const parts = [esc(t(`dock_live_${f.live_state}`))];
  if (f.live_lens) parts.push(esc(t(`dock_lens_${f.live_lens}`)));
  if (f.live_job_id != null) parts.push(`${esc(t("dock_live_job"))} #${f.live_job_id}`);
  if (f.live_state === "failed" && f.live_reason) parts.push(esc(f.live_reason));
  return parts.join(" · ");
}

function renderDockRow(id) {
  const row = $(`#sorties tr[data-dock="${id}"]`);
  if (!row) return;
  const html = dockBlock(id);
  row.hidden = !html;
  row.firstElementChild.innerHTML = html;
}

// A failed command: what it means in the user's language, then the API's own words.
function dockFailure({ key, detail }) {
  return [key ? t(key) : "", detail].filter(Boolean).join(": ");
}

async function dockCommand(id, what) {
  state.dockConfirm = null;
  state.dockBusy.add(id);
  state.dockErrors.delete(id);
  renderDockRow(id);
  const sent = api.post(`/dji/flights/${id}/${what}`).then((flight) => {
    state.dock.set(id, flight);
    if (!DOCK_EFFECT[what](flight)) throw Object.assign(new Error(""), { key: "dock_not_taken" });
  }).catch((error) => {
    // Kept apart, so the block says it in the language chosen later too.
    const failure = { at: new Date().toISOString(), key: error.key || DOCK_HINT[error.status], detail: error.message };
    state.dockErrors.set(id, failure);
    throw new Error(dockFailure(failure));
  });
  await act(sent, `dock_${what.replace("-", "_")}_ok`);
  state.dockBusy.delete(id);
  await loadDock(id);
  renderDockRow(id);
}

$("#sorties").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-dock-act]");
  if (button) {
    const id = Number(button.closest("tr[data-dock]").dataset.dock);
    const what = button.dataset.dockAct;
    if (what === "return-home") { state.dockConfirm = id; renderDockRow(id); return; }
    if (what === "cancel") { state.dockConfirm = null; renderDockRow(id); return; }
    button.disabled = true;
    await dockCommand(id, what === "confirm-return" ? "return-home" : what);
    return;
  }
  const row = event.target.closest("tr[data-sortie]");
  if (!row || !canCommandDocks()) return;
  const id = Number(row.dataset.sortie);
  if (state.dockOpen.has(id)) state.dockOpen.delete(id);
  else state.dockOpen.add(id);
  renderSorties();
  if (state.dockOpen.has(id)) { await loadDock(id); renderDockRow(id); }
});

// -- ground unit -------------------------------------------------------------------------
async function refreshUnit() {
  $("#unit-callsign").textContent = state.units.find((u) => u.id === state.me.ground_unit_id)?.call_sign || "";
  const alerts = await listAll("/alerts");
  for (const alert of alerts || []) {
    if (alert.incident_id && ["dispatch", "escalation", "ack_expired"].includes(alert.kind) && !state.unitIncidents.has(alert.incident_id)) {
      state.unitIncidents.set(alert.incident_id, { alertId: alert.id, incident: null });
    }
  }
  await Promise.all([...state.unitIncidents.keys()].map(async (id) => {
    try { state.unitIncidents.get(id).incident = await api.get(`/incidents/${id}`); } catch { state.unitIncidents.delete(id); }
  }));
  renderUnit();
}

const UNIT_OUTCOMES = OUTCOMES;
const DRONE_NEAR_M = 1500;

function metresBetween(a, b) {
  const lat = ((a.lat + b.lat) / 2) * Math.PI / 180;
  const dx = (b.lon - a.lon) * 111320 * Math.cos(lat);
  const dy = (b.lat - a.lat) * 110540;
  return Math.hypot(dx, dy);
}

// The live drone nearest the incident (within 1.5 km): the one watching the people.
function droneOver(incident) {
  let best = null;
  for (const drone of state.drones.values()) {
    const d = metresBetween(drone, incident);
    if (d <= DRONE_NEAR_M && (!best || d < best.d)) best = { drone, d };
  }
  return best;
}

function outcomePicker(i) {
  const picking = state.picking && state.picking.id === i.id ? state.picking : null;
  if (!picking) return "";
  if (!picking.outcome) {
    return `<div class="pick" role="group" aria-label="${esc(t("resolve_prompt"))}">
      <div class="pick-title">${esc(t("resolve_prompt"))}</div>
      <div class="pick-grid">${UNIT_OUTCOMES.map((o) => `<button data-act="pick" data-outcome="${o}">${esc(t(`outcome_${o}`))}</button>`).join("")}</div>
      <button class="link" data-act="cancel">${esc(t("cancel"))}</button></div>`;
  }
  return `<div class="pick confirm" role="alertdialog">
    <div class="pick-title">${esc(t("confirm_outcome", { outcome: t(`outcome_${picking.outcome}`) }))}</div>
    <div class="pick-grid"><button class="ok" data-act="confirm">${esc(t("confirm"))}</button><button data-act="cancel">${esc(t("cancel"))}</button></div></div>`;
}

function renderUnit() {
  renderAlertSwitch();
  const cards = [...state.unitIncidents.values()].map((v) => v.incident).filter((i) => i && OPEN.has(i.state))
    .sort((a, b) => b.detected_at.localeCompare(a.detected_at));
  $("#unit-empty").hidden = cards.length > 0;
  $("#unit-cards").innerHTML = cards.map((i) => {
    const over = droneOver(i);
    const taken = ["acknowledged", "on_scene"].includes(i.state);
    return `
    <div class="card ${esc(i.state)}" data-id="${i.id}">
      <div class="title"><span>#${i.id} ${esc(placeOf(i))}</span>${stateTag(i.state)}</div>
      <div class="meta">${t("people_n", { n: i.people_count })} ${flags(i)} · ${fmtTime(i.detected_at)} · ${elapsed(i.detected_at)}<br>
        <span class="nav-link">${i.lat.toFixed(5)}, ${i.lon.toFixed(5)}</span>
        <span class="drone-over" data-drone="${over ? over.drone.drone_id : ""}">${over ? ` · ${esc(t("drone_over"))} ${esc(over.drone.name || `#${over.drone.drone_id}`)} (${Math.round(over.d)} m)` : ""}</span></div>
      <div class="btns">
        <button class="primary" data-act="acknowledge" ${["dispatched", "escalated"].includes(i.state) ? "" : "disabled"}>${t("acknowledge")}</button>
        <button class="warn" data-act="arrive" ${["dispatched", "acknowledged"].includes(i.state) ? "" : "disabled"}>${t("arrive")}</button>
        <button class="ok" data-act="resolve" ${taken ? "" : "disabled"} title="${taken ? "" : esc(t("ack_first"))}">${t("resolve")}</button>
      </div>${outcomePicker(i)}
    </div>`;
  }).join("");
}

$("#unit-cards").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-act]");
  if (!button) return;
  const id = Number(button.closest(".card").dataset.id);
  const what = button.dataset.act;
  // Resolving is two taps: choose the outcome, then confirm it.
  if (what === "resolve") { state.picking = { id, outcome: null }; renderUnit(); return; }
  if (what === "pick") { state.picking = { id, outcome: button.dataset.outcome }; renderUnit(); return; }
  if (what === "cancel") { state.picking = null; renderUnit(); return; }
  button.disabled = true;
  if (what === "confirm") {
    const outcome = state.picking && state.picking.id === id ? state.picking.outcome : null;
    state.picking = null;
    if (outcome) await act(api.post(`/incidents/${id}/resolve`, { outcome }), "resolved_ok");
  } else if (what === "acknowledge") {
    await act(api.post(`/incidents/${id}/acknowledge`), "acknowledged_ok");
  } else if (what === "arrive") {
    await act(api.post(`/incidents/${id}/arrive`), "arrived_ok");
  }
  await refreshUnit();
});

// -- statistics --------------------------------------------------------------------------
function statsParams() {
  const form = $("#stats-filter");
  const params = new URLSearchParams();
  params.set("from", form.from.value);
  params.set("to", form.to.value);
  if (form.station_id.value) params.set("station_id", form.station_id.value);
  if (form.waterway_id.value) params.set("waterway_id", form.waterway_id.value);
  for (const part of form.hours.value ? form.hours.value.split(",") : []) {
    const [a, b] = part.split("-").map(Number);
    for (let h = a; h <= b; h += 1) params.append("hour", String(h));
  }
  return params;
}

function openStats() {
  const form = $("#stats-filter");
  if (!form.from.value) {
    const today = localToday();
    const year = today.slice(0, 4);
    form.from.value = today >= `${year}-05-01` ? `${year}-05-01` : `${year}-01-01`;
    form.to.value = today;
    const stations = [...state.jurisdictions.values()].filter((j) => j.kind === "station");
    form.station_id.innerHTML = `<option value="">${t("all")}</option>` + stations.map((s) => `<option value="${s.id}">${esc(jurName(s.id))}</option>`).join("");
    form.waterway_id.innerHTML = `<option value="">${t("all")}</option>` + [...state.waterways.values()].map((w) => `<option value="${w.id}">${esc(w.name)}</option>`).join("");
    state.timers.push(setInterval(() => { if (state.view === "stats") loadStats(); }, POLL_MS * 6));
  }
  loadStats();
}

$("#stats-filter").addEventListener("submit", (event) => { event.preventDefault(); loadStats(); });
$("#stats-filter").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-export]");
  if (!button) return;
  const params = statsParams();
  params.set("format", button.dataset.format);
  params.set("lang", currentLang());
  button.disabled = true;
  try {
    await api.download(`/reports/${button.dataset.export}?${params}`, { open: button.dataset.format === "html" });
  } catch (error) {
    toast(`${t("action_failed")}: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
});

// Durations read as minutes ("1.5 分钟" / "1.5 min"), never as a clock time.
function minutesText(seconds) { return seconds == null ? "–" : `${(seconds / 60).toFixed(1)} ${t("minutes")}`; }
function minutes(seconds) { return seconds == null ? null : Math.round(seconds / 0.6) / 100; }
function kpi(key, value, sub = "", cls = "") {
  return `<div class="kpi ${cls}" data-kpi="${key}"><div class="k">${t(key)}</div><div class="v">${value}</div><div class="s">${sub}</div></div>`;
}

let statsBusy = false;
async function loadStats() {
  if (statsBusy) return;
  statsBusy = true;
  try {
    const params = statsParams();
    const [summary, daily, hourly, spots] = await Promise.all([
      api.get(`/stats/summary?${params}`), api.get(`/stats/daily?${params}`),
      api.get(`/stats/hourly?${params}`), api.get(`/stats/hot-spots?${params}&limit=12`),
    ]);
    state.statsLoaded = true;
    renderStations(params).catch(() => {});
    renderKpis(summary);
    renderCharts(summary, daily, hourly);
    renderHotSpots(spots);
  } catch (error) {
    toast(`${t("action_failed")}: ${error.message}`, true);
  } finally {
    statsBusy = false;
  }
}

function renderKpis(s) {
  const f = s.flights;
  const flight = (value) => (f.is_available ? value : "–");
  const rt = s.response_times;
  $("#kpis").innerHTML = [
    kpi("k_ops", flight(f.patrol_operations), f.is_available ? "" : t("no_flight_log")),
    kpi("k_sorties", flight(f.sorties)),
    kpi("k_hours", flight(String(f.flight_hours)), f.is_available ? `${t("planned_short")} ${f.planned_flight_hours}` : ""),
    kpi("k_km", flight(String(f.distance_km)), f.is_available ? `${t("planned_short")} ${f.planned_distance_km}` : ""),
    kpi("k_found", s.sightings.persons_found, t("sightings_n", { n: s.sightings.sightings }), "accent"),
    kpi("k_dissuaded", s.dissuasion.persons_dissuaded, "", "accent"),
    kpi("k_air", s.dissuasion.persons_dissuaded_from_air),
    kpi("k_ground", s.dissuasion.persons_dissuaded_by_ground),
    kpi("k_minors", s.sightings.minors_sighted, "", "warn"),
    kpi("k_incidents", s.incidents.total, `${t("k_open")} ${s.incidents.open}`),
    kpi("k_referrals", `${s.referrals.done}/${s.referrals.total}`),
    kpi("k_overdue", s.referrals.overdue, "", s.referrals.overdue ? "warn" : ""),
    kpi("k_warn_time", minutesText(rt.to_warning.median_s), `p90 ${minutesText(rt.to_warning.p90_s)}`),
  ].join("");
}

const PALETTE = ["#38bdf8", "#f59e0b", "#22c55e", "#a78bfa", "#f472b6", "#94a3b8", "#ef4444"];

function chart(id, config) {
  if (!window.Chart) return;
  const existing = state.charts[id];
  if (existing) {
    existing.data = config.data;
    existing.update("none");
    return;
  }
  const Chart = window.Chart;
  Chart.defaults.color = "#8699ab";
  Chart.defaults.borderColor = "#243446";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 11;
  state.charts[id] = new Chart($(`#${id}`), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } }, ...config.options },
  });
}

function renderCharts(summary, daily, hourly) {
  chart("chart-daily", {
    type: "bar",
    data: {
      labels: daily.map((d) => d.day.slice(5)),
      datasets: [
        { label: t("found"), data: daily.map((d) => d.persons_found), backgroundColor: "#38bdf8" },
        { label: t("dissuaded"), data: daily.map((d) => d.persons_dissuaded), backgroundColor: "#22c55e" },
      ],
    },
    options: { scales: { x: { ticks: { maxTicksLimit: 16 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  chart("chart-hourly", {
    type: "bar",
    data: {
      labels: [...Array(24).keys()].map((h) => String(h).padStart(2, "0")),
      datasets: hourly.filter((p) => p.persons_by_hour.some(Boolean) || p.waterway_id).map((p, index) => ({
        label: p.waterway_name ? p.waterway_name.split(" ")[0] : t("no_waterway"),
        data: p.persons_by_hour, backgroundColor: PALETTE[index % PALETTE.length],
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const outcomes = Object.entries(summary.incidents.by_outcome);
  chart("chart-outcomes", {
    type: "doughnut",
    data: {
      labels: outcomes.map(([k]) => t(`outcome_${k}`)),
      datasets: [{ data: outcomes.map(([, v]) => v), backgroundColor: outcomes.map(([k]) => ({ dissuaded: "#22c55e", rescued: "#38bdf8", nobody_found: "#94a3b8", false_alarm: "#a78bfa", cleared_from_air: "#4ade80", none: "#f59e0b" })[k] || "#64748b"), borderColor: "#121c27" }],
    },
    options: { plugins: { legend: { position: "right", labels: { boxWidth: 10 } } } },
  });
  const rt = summary.response_times;
  const steps = ["to_warning", "to_acknowledgement", "to_on_scene"];
  chart("chart-response", {
    type: "bar",
    data: {
      labels: steps.map((k) => `${t(k)} (n=${rt[k].count})`),
      datasets: [
        { label: t("median"), data: steps.map((k) => minutes(rt[k].median_s)), backgroundColor: "#38bdf8" },
        { label: t("p90"), data: steps.map((k) => minutes(rt[k].p90_s)), backgroundColor: "#f59e0b" },
      ],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true } } },
  });
}

// One request for the whole table (GET /stats/stations), not one summary per station.
async function renderStations(params) {
  const rows = await api.get(`/stats/stations?${params}`);
  const min = minutesText;
  $("#stations tbody").innerHTML = rows.map((s) => `<tr data-station="${s.station_id}">
    <td>${esc(currentLang() === "zh-CN" ? s.name_zh : s.name_en)}</td><td class="num">${s.persons_found}</td>
    <td class="num">${s.persons_dissuaded_from_air}</td><td class="num">${s.persons_dissuaded_by_ground}</td>
    <td class="num">${s.incidents}</td><td class="num">${s.minors_sighted}</td>
    <td class="num">${min(s.to_warning_median_s)}</td><td class="num">${min(s.to_on_scene_median_s)}</td>
    <td class="num">${s.referrals_done}/${s.referrals_total}</td><td class="num">${s.referrals_overdue}</td>
    <td class="num">${s.sorties}</td></tr>`).join("");
}

function renderHotSpots(spots) {
  $("#hotspots tbody").innerHTML = spots.map((h) => {
    const peak = Math.max(1, ...h.persons_by_hour);
    const spark = h.persons_by_hour.map((v) => `<i style="height:${Math.max(1, Math.round((v / peak) * 16))}px;opacity:${v ? 1 : 0.25}"></i>`).join("");
    return `<tr><td class="num">${h.rank}</td><td>${h.is_listed ? esc(h.name) : `${t("unlisted")} <span class="sub">${esc(h.name)}</span>`}</td>
      <td>${esc(h.waterway_name ? h.waterway_name.split(" ")[0] : t("no_waterway"))}</td><td class="num">${h.persons}</td><td class="num">${h.minors}</td>
      <td class="num">${h.deep_water}</td><td class="num">${String(h.peak_hour).padStart(2, "0")}:00</td><td><span class="spark">${spark}</span></td></tr>`;
  }).join("");
}

// -- boot --------------------------------------------------------------------------------
applyStrings();
if (api.isLoggedIn()) start().catch(() => showLogin());
else showLogin();
