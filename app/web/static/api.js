// The API client: OAuth2 password login, tokens kept in sessionStorage (never localStorage),
// one refresh on 401, and Server-Sent Events read through fetch so the token goes in a header.
const KEY = "wg.tokens";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (typeof body.detail === "string" ? body.detail : body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function loadTokens() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
}

let tokens = loadTokens();
let onLoggedOut = () => {};

export function setLoggedOutHandler(handler) { onLoggedOut = handler; }
export function isLoggedIn() { return Boolean(tokens && tokens.access_token); }

function store(pair) {
  tokens = pair;
  if (pair) sessionStorage.setItem(KEY, JSON.stringify(pair));
  else sessionStorage.removeItem(KEY);
}

export async function login(username, password, otp = "") {
  const form = new URLSearchParams({ username, password, grant_type: "password" });
  if (otp) form.set("otp", otp);
  const response = await fetch("/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  store(body);
  return body;
}

let refreshing = null;
async function refresh() {
  if (!tokens || !tokens.refresh_token) return false;
  refreshing ??= fetch("/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: tokens.refresh_token }),
  }).then(async (response) => {
    if (!response.ok) { store(null); return false; }
    store(await response.json());
    return true;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

export async function logout() {
  if (tokens && tokens.refresh_token) {
    await request("POST", "/auth/logout", { refresh_token: tokens.refresh_token }).catch(() => {});
  }
  store(null);
}

export async function raw(method, path, body, { retry = true, accept } = {}) {
  const headers = {};
  if (tokens) headers.Authorization = `Bearer ${tokens.access_token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && retry && (await refresh())) {
    return raw(method, path, body, { retry: false, accept });
  }
  if (response.status === 401) { store(null); onLoggedOut(); }
  return response;
}

export async function request(method, path, body) {
  const response = await raw(method, path, body);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}) => request("POST", path, body);

// Follows an SSE endpoint; calls onEvent(name, data) and onState(isOpen). Reconnects with
// Last-Event-ID after errors and when the server closes the stream. Returns a stop function.
export function follow(path, { onEvent, onState = () => {}, onMissing = () => {} }) {
  let lastId = null;
  let stopped = false;
  let controller = null;
  let delay = 1000;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { Accept: "text/event-stream" };
        if (tokens) headers.Authorization = `Bearer ${tokens.access_token}`;
        if (lastId) headers["Last-Event-ID"] = lastId;
        const response = await fetch(path, { headers, signal: controller.signal });
        if (response.status === 401) { await refresh(); throw new Error("unauthorized"); }
        if (response.status === 404 || response.status === 403) { onMissing(response.status); return; }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState(true);
        delay = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n/g, "\n");
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let name = "message"; let data = ""; let id = null;
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              const [field, ...rest] = line.split(":");
              const content = rest.join(":").replace(/^ /, "");
              if (field === "event") name = content;
              else if (field === "data") data += (data ? "\n" : "") + content;
              else if (field === "id") id = content;
            }
            if (id) lastId = id;
            if (data) {
              let parsed = data;
              try { parsed = JSON.parse(data); } catch { /* plain text */ }
              onEvent(name, parsed);
            }
          }
        }
      } catch (error) {
        if (stopped) return;
      }
      onState(false);
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }
  connect();
  return () => { stopped = true; if (controller) controller.abort(); onState(false); };
}

// Downloads an authenticated export (CSV, XLSX, PDF) or opens an HTML report in a new tab.
export async function download(path, { open = false } = {}) {
  const response = await raw("GET", path);
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, body);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  if (open) {
    window.open(url, "_blank", "noopener");
  } else {
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const link = document.createElement("a");
    link.href = url;
    link.download = match ? match[1] : "export";
    document.body.append(link);
    link.click();
    link.remove();
  }
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return blob;
}
