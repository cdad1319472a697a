// What every page shares: errors in words, role names, small form helpers.

import { ApiFailure, Role } from "./api";
import { fill, h } from "./dom";
import { Key, t } from "./i18n";

/** Dispatched when the server says the session is gone; the shell goes back to sign-in. */
export const SIGNED_OUT = "leakwatch:signed-out";

/** The error a failed request shows, in the reader's language. */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiFailure)) return t("errOther");
  const detail = error.message;
  const byCode: Record<string, Key> = {
    offline: "errOffline",
    bad_request: "errBadRequest",
    unauthorized: "errUnauthorized",
    forbidden: "errForbidden",
    not_found: "errNotFound",
    conflict: "errConflict",
    too_many_requests: "errTooMany",
    unavailable: "errUnavailable",
  };
  return t(byCode[error.code] ?? "errOther", { detail });
}

/** Shows a failure where it happened; an ended session goes back to sign-in. */
export function showError(where: Element, error: unknown): void {
  if (error instanceof ApiFailure && error.code === "unauthorized") {
    window.dispatchEvent(new Event(SIGNED_OUT));
    return;
  }
  showProblem(where, errorText(error));
}

/** A problem in words where it happened, announced to screen readers. */
export function showProblem(where: Element, text: string): void {
  fill(where, h("p", { class: "error", role: "alert" }, text));
}

export function showNote(where: Element, text: string): void {
  fill(where, h("p", { class: "note", role: "status" }, text));
}

export function roleLabel(role: Role | string): string {
  return t(role === "admin" ? "roleAdmin" : role === "privacy_officer" ? "roleOfficer" : "roleSender");
}

export function isOfficer(role: Role): boolean {
  return role === "privacy_officer" || role === "admin";
}

/** A labelled Fluent text field. */
export function textField(id: string, label: Key, value = "", attrs: Record<string, string | boolean | undefined> = {}): HTMLElement {
  return h("fluent-text-field", { id, value, ...attrs }, t(label));
}

/** A labelled text area (Fluent's), for lists one per line and longer texts. */
export function textArea(id: string, label: Key, value = "", rows = 3): HTMLElement {
  const area = h("fluent-text-area", { id, rows: String(rows), resize: "vertical" }, t(label));
  (area as HTMLTextAreaElement).value = value;
  return area;
}

/** A button that runs `action`, disabled while it runs. */
export function button(id: string, label: Key, action: () => Promise<void> | void, appearance = "accent"): HTMLElement {
  const element = h("fluent-button", { id, appearance }, t(label));
  element.addEventListener("click", async () => {
    if (element.hasAttribute("disabled")) return;
    element.setAttribute("disabled", "");
    try {
      await action();
    } finally {
      element.removeAttribute("disabled");
    }
  });
  return element;
}

/** A table with a caption and headers, for screen readers and keyboard users alike. */
export function table(caption: string, headers: string[], rows: (Node | string)[][]): HTMLElement {
  return h("table", {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, ...headers.map((name) => h("th", { scope: "col" }, name)))),
    // On a narrow screen each row stacks; the cell's header goes before it (app.css).
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell, i) => h("td", { "data-label": headers[i] || undefined }, cell))))),
  );
}

export function lines(value: string): string[] {
  return value.split(/[\n,]/).map((line) => line.trim()).filter(Boolean);
}
