// The leakwatch backend as the add-ins see it: one small class over `fetch`, shared by the
// Thunderbird add-on and the Outlook add-in (an ES module, no bundler, no dependencies).
//
// Every failure is an `ApiError` with the HTTP status (0 when the server could not be
// reached at all) and the server's `{"error": {"code", "message"}}` when it sent one, so a
// caller can tell "unreachable: send without tracking" from "signed out: sign in again".

/**
 * A failed request. `status` is 0 when no usable HTTP answer came: a network error
 * (`unreachable`), no complete answer in time (`timeout`), or a success status whose body is
 * not JSON (`malformed_response`).
 */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }

  /** The server could not be reached or failed itself: work on without it. */
  get unreachable() {
    return this.status === 0 || this.status >= 500;
  }

  /** The token is missing, expired or revoked: the user has to sign in again. */
  get unauthorized() {
    return this.status === 401;
  }
}

/**
 * The server's base URL as typed by a user, normalised: an absolute http(s) URL without
 * query, fragment or trailing slash (a path prefix, for a server behind a proxy, is kept).
 * Throws an `ApiError` with code `invalid_server_url` otherwise.
 */
export function normaliseBaseUrl(input) {
  let url;
  try {
    url = new URL(String(input ?? "").trim());
  } catch {
    throw new ApiError(0, "invalid_server_url", `not a URL: ${input}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ApiError(0, "invalid_server_url", "the server URL must start with https:// or http://");
  }
  if (url.username || url.password) {
    throw new ApiError(0, "invalid_server_url", "the server URL must not contain a user name or password");
  }
  url.search = "";
  url.hash = "";
  return url.href.replace(/\/+$/, "");
}

/** The origin pattern a WebExtension needs as host permission for the server. */
export function hostPermissionFor(baseUrl) {
  const url = new URL(normaliseBaseUrl(baseUrl));
  return `${url.protocol}//${url.hostname}/*`;
}

export class ApiClient {
  /**
   * @param {object} options
   * @param {string} options.baseUrl  the server, e.g. https://leakwatch.example.nl
   * @param {string} [options.token]  a bearer token (from `login` or `leakwatch token issue`)
   * @param {typeof fetch} [options.fetch]
   * @param {number} [options.timeoutMs]  per request; a slow server counts as unreachable
   */
  constructor({ baseUrl, token = null, fetch: fetchImpl, timeoutMs = 10_000 }) {
    this.baseUrl = normaliseBaseUrl(baseUrl);
    this.token = token;
    this.fetch = fetchImpl ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = timeoutMs;
  }

  url(path, query) {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  /**
   * One exchange with the server. The timeout covers all of it (connecting, the headers and
   * the whole body), so a server that answers the headers and then stalls counts as
   * unreachable as surely as one that never answers. `timeoutMs` overrides the client's.
   */
  async request(method, path, { body, query, auth = true, timeoutMs = this.timeoutMs } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      if (!this.token) throw new ApiError(401, "not_signed_in", "not signed in");
      headers.Authorization = `Bearer ${this.token}`;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const unreachable = (err) => {
      const why = controller.signal.aborted ? `no complete answer within ${timeoutMs} ms` : err.message;
      return new ApiError(0, controller.signal.aborted ? "timeout" : "unreachable", `the leakwatch server at ${this.baseUrl} cannot be reached: ${why}`);
    };
    let response;
    let text;
    try {
      response = await this.fetch(this.url(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        credentials: "omit",
        cache: "no-store",
      });
      text = await response.text();
    } catch (err) {
      throw unreachable(err);
    } finally {
      clearTimeout(timer);
    }
    let json = null;
    let malformed = false;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        malformed = true;
      }
    }
    if (!response.ok) {
      const error = json?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? `${method} ${path}: HTTP ${response.status}`,
      );
    }
    if (malformed || (json === null && response.status !== 204)) {
      throw new ApiError(0, "malformed_response", `${method} ${path}: the server's answer is not JSON`);
    }
    return json;
  }

  /** Password sign-in; keeps the token on the client. → `{token, expires_at}` */
  async login(tenant, email, password) {
    const answer = await this.request("POST", "/api/v1/auth/login", {
      body: { tenant, email, password },
      auth: false,
    });
    this.token = answer.token;
    return answer;
  }

  /** Who the token belongs to. */
  me() {
    return this.request("GET", "/api/v1/me");
  }

  /** The tenant's check policy (leakwatch_core::Policy as JSON). */
  policy() {
    return this.request("GET", "/api/v1/tenant/policy");
  }

  /**
   * Registers a message about to be sent. → `{id, track, track_reason, pixel_url?, info_url}`,
   * checked: an answer without a message id and info URL (or a tracked one without a pixel
   * URL) is a `malformed_response`, so a broken server cannot put a broken notice in a mail.
   */
  async register(message, { timeoutMs } = {}) {
    const answer = await this.request("POST", "/api/v1/messages", { body: message, timeoutMs });
    const isUrl = (value) => typeof value === "string" && /^https?:\/\//.test(value);
    const valid =
      answer &&
      typeof answer.id === "string" &&
      answer.id !== "" &&
      typeof answer.track === "boolean" &&
      isUrl(answer.info_url) &&
      (!answer.track || isUrl(answer.pixel_url));
    if (!valid) throw new ApiError(0, "malformed_response", "POST /api/v1/messages: the server's answer is incomplete");
    return answer;
  }

  message(id) {
    return this.request("GET", `/api/v1/messages/${encodeURIComponent(id)}`);
  }

  /** The caller's registered messages, newest first. → `{messages: [...]}` */
  messages({ limit = 50 } = {}) {
    return this.request("GET", "/api/v1/messages", { query: { limit } });
  }

  /** "I sent this to the wrong person". → `{id}` */
  reportIncident(messageId, wrongRecipients) {
    return this.request("POST", "/api/v1/incidents", {
      body: { message_id: messageId, wrong_recipients: wrongRecipients },
    });
  }

  incident(id) {
    return this.request("GET", `/api/v1/incidents/${encodeURIComponent(id)}`);
  }

  /** → `{incidents: [...]}` */
  incidents() {
    return this.request("GET", "/api/v1/incidents");
  }

  /** Alerts after sequence number `after` (all when absent). → `{alerts: [...]}` */
  alerts({ after } = {}) {
    return this.request("GET", "/api/v1/alerts", { query: { after } });
  }

  /** The server-sent-events stream of alerts, for `EventSource` (which cannot send headers). */
  alertStreamUrl({ after } = {}) {
    if (!this.token) throw new ApiError(401, "not_signed_in", "not signed in");
    return this.url("/api/v1/alerts/stream", { access_token: this.token, after });
  }
}

/**
 * What `POST /api/v1/messages` takes, from the message that was checked and its verdict.
 * Only kinds and counts of personal data go to the server, never the values.
 */
export function registrationFor(message, verdict, { overridden, lang }) {
  return {
    to: message.to ?? [],
    cc: message.cc ?? [],
    bcc: message.bcc ?? [],
    subject: message.subject ?? "",
    findings: verdict.findings,
    overridden: Boolean(overridden),
    sensitive: verdict.sensitive,
    has_attachments: (message.attachments ?? []).length > 0,
    lang,
  };
}
