// The server's API with the browser session: the cookie goes by itself (same origin), the
// CSRF token is sent with every request that may change something, and every error comes
// back as an ApiFailure carrying the server's own message.

export interface TenantRef { id: string; name: string; time_zone?: string }
export interface Me { id: string; email: string; role: Role; tenant: TenantRef }
export type Role = "sender" | "privacy_officer" | "admin";
export interface SessionView { csrf_token: string; expires_at: number; user: Me }

export class ApiFailure extends Error {
  /** `code` is the server's error code (`bad_request`, `forbidden`, ...); "" when offline. */
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

let csrfToken = "";

export function rememberSession(session: SessionView): void {
  csrfToken = session.csrf_token;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch {
    throw new ApiFailure(0, "offline", "");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiFailure(response.status, error?.code ?? "", error?.message ?? "");
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>("GET", path);
