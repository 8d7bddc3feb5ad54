// The Parcours API from the page: the workspace key (sessionStorage, Authorization header only), ETag polling.

const KEY_STORE = "parcours.key";
const MAX_CACHED = 200;

export class ApiError extends Error {
  constructor(status, code, detail, body = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.body = body; // the whole error envelope (e.g. `columns` of a refused upload)
  }
}

/** Read `#key=KEY` from the address, keep it in sessionStorage and remove it from the address bar. */
export function takeKeyFromFragment() {
  const match = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (!match) return false;
  storeKey(decodeURIComponent(match[1]));
  history.replaceState(history.state, "", location.pathname + location.search);
  return true;
}

export function storedKey() {
  try {
    const own = sessionStorage.getItem(KEY_STORE);
    if (own) return own;
    // A report opened in a new tab may not have inherited the session: ask the same-origin opener.
    return window.opener?.sessionStorage?.getItem(KEY_STORE) || null;
  } catch {
    return null;
  }
}

export function storeKey(key) {
  sessionStorage.setItem(KEY_STORE, key.trim());
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORE);
}

/** A query string from an object: arrays repeat the name, empty values are left out. */
export function queryString(params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== null && item !== undefined && item !== "") query.append(name, item);
    }
  }
  const text = query.toString();
  return text ? `?${text}` : "";
}

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON: keep the status text */
  }
  return new ApiError(
    response.status,
    body.code || "http_error",
    body.detail || `${response.status} ${response.statusText}`,
    body,
  );
}

export class Api {
  /** `onUnauthorized(error)` is called on every 401 (the page shows its key prompt). */
  constructor(onUnauthorized = () => {}) {
    this.onUnauthorized = onUnauthorized;
    this.cache = new Map(); // url -> {etag, body}: the last answer of every analytics URL
    this.stats = { requests: 0, notModified: 0 };
  }

  headers() {
    const key = storedKey();
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  async send(url, options = {}) {
    this.stats.requests += 1;
    const response = await fetch(url, { ...options, headers: { ...this.headers(), ...(options.headers || {}) } });
    if (response.status === 401) {
      const error = await errorOf(response);
      this.onUnauthorized(error);
      throw error;
    }
    return response;
  }

  /** GET with If-None-Match: `{url, body, text, etag, changed}`; a 304 gives back the kept answer, unchanged. */
  async get(path, params = {}) {
    const url = path + queryString(params);
    const kept = this.cache.get(url);
    const headers = kept?.etag ? { "If-None-Match": kept.etag } : {};
    // no-store: the browser must neither answer from its own cache nor hide the 304 from us.
    const response = await this.send(url, { headers, cache: "no-store" });
    if (response.status === 304 && kept) {
      this.stats.notModified += 1;
      return { url, body: kept.body, text: kept.text, etag: kept.etag, changed: false };
    }
    if (!response.ok) throw await errorOf(response);
    // The text is kept too: a new ETag (any write bumps the workspace's version) may bring the same content.
    const text = await response.text();
    const body = JSON.parse(text);
    const etag = response.headers.get("ETag");
    if (etag) {
      this.cache.delete(url);
      this.cache.set(url, { etag, body, text });
      if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value);
    }
    return { url, body, text, etag, changed: !kept || kept.text !== text };
  }

  /** GET without keeping anything (listings, upload jobs). */
  async fetchJson(path, params = {}) {
    const response = await this.send(path + queryString(params), { cache: "no-store" });
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  /** A JSON write (POST, PATCH): the answer's JSON, or an ApiError. */
  async write(path, body = null, method = "POST") {
    const options = { method, cache: "no-store" };
    if (body !== null) {
      options.body = JSON.stringify(body);
      options.headers = { "Content-Type": "application/json" };
    }
    const response = await this.send(path, options);
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  async upload(file, fields = {}) {
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
    const response = await this.send("/v1/uploads", { method: "POST", body: form });
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }
}
