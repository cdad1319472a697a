// The dashboard's shell: the session, the layout with the navigation a role may use, the
// language switch and the hash router. Each page lives in pages/ and renders into <main>.

import {
  fluentButton, fluentCheckbox, fluentDesignSystemProvider, fluentDialog, fluentOption, fluentRadio, fluentRadioGroup,
  fluentSelect, fluentTextArea, fluentTextField, provideFluentDesignSystem,
} from "@fluentui/web-components";
import { api, ApiFailure, get, Me, rememberSession, Role, SessionView } from "./api";
import { fill, h } from "./dom";
import { Key, lang, Lang, setLang, setTimeZone, t } from "./i18n";
import { isOfficer, roleLabel, showError, SIGNED_OUT } from "./ui";
import { startLiveAlerts, stopLiveAlerts } from "./live";
import { renderSignIn } from "./pages/signin";
import { renderMessages } from "./pages/messages";
import { renderIncidents, renderIncident } from "./pages/incidents";
import { renderAlerts } from "./pages/alerts";
import { renderPolicy } from "./pages/policy";
import { renderUsers } from "./pages/users";
import { renderSettings } from "./pages/settings";
import { renderAudit } from "./pages/audit";

// Only the components the pages use, so the first page stays small.
provideFluentDesignSystem().register(
  fluentDesignSystemProvider(), fluentButton(), fluentCheckbox(), fluentDialog(), fluentOption(), fluentRadio(),
  fluentRadioGroup(), fluentSelect(), fluentTextArea(), fluentTextField(),
);

export interface Page {
  me: Me;
  main: HTMLElement;
  /** Parameters after the route's name: `#/incidents/abc` gives `["abc"]`. */
  params: string[];
}

interface Route {
  path: string;
  label: Key;
  roles: Role[];
  render: (page: Page) => Promise<void> | void;
  /** Not in the navigation (a detail page). */
  hidden?: boolean;
}

const ALL: Role[] = ["sender", "privacy_officer", "admin"];
const OFFICERS: Role[] = ["privacy_officer", "admin"];

const ROUTES: Route[] = [
  { path: "messages", label: "navMessages", roles: ALL, render: renderMessages },
  { path: "incidents", label: "navIncidents", roles: ALL, render: renderIncidents },
  { path: "incident", label: "navIncidents", roles: ALL, render: renderIncident, hidden: true },
  { path: "alerts", label: "navAlerts", roles: ALL, render: renderAlerts },
  { path: "overview", label: "navOverview", roles: OFFICERS, render: async (page) => (await import("./pages/overview")).renderOverview(page) },
  { path: "audit", label: "navAudit", roles: OFFICERS, render: renderAudit },
  { path: "policy", label: "navPolicy", roles: ["admin"], render: renderPolicy },
  { path: "users", label: "navUsers", roles: ["admin"], render: renderUsers },
  { path: "settings", label: "navSettings", roles: ["admin"], render: renderSettings },
];

let me: Me | null = null;
const app = document.getElementById("app")!;

function languageSwitch(): HTMLElement {
  const select = h("fluent-select", { id: "language", "aria-label": t("language"), title: t("language") },
    h("fluent-option", { value: "nl", selected: lang() === "nl" }, "Nederlands"),
    h("fluent-option", { value: "en", selected: lang() === "en" }, "English"),
  );
  select.addEventListener("change", () => {
    setLang((select as HTMLSelectElement).value as Lang);
    void route();
  });
  return select;
}

function layout(current: string): HTMLElement {
  const user = me!;
  const nav = h("nav", { "aria-label": t("mainNav") },
    h("ul", {}, ...ROUTES.filter((r) => !r.hidden && r.roles.includes(user.role)).map((r) =>
      h("li", {}, h("a", { href: `#/${r.path}`, "aria-current": r.path === current ? "page" : undefined }, t(r.label))),
    )),
  );
  const signOut = h("fluent-button", { id: "signout", appearance: "outline" }, t("signOut"));
  signOut.addEventListener("click", async () => {
    try {
      await api("DELETE", "/api/v1/auth/session");
    } finally {
      signedOut();
    }
  });
  const main = h("main", { id: "content", tabindex: "-1" });
  fill(app,
    h("a", { class: "skip", href: "#content", onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, t("skipToContent")),
    h("header", { class: "top" },
      h("span", { class: "brand" }, t("product")),
      h("span", { class: "tenant" }, user.tenant.name),
      h("span", { class: "who", id: "who" }, t("signedInAs", { email: user.email }), " · ", roleLabel(user.role)),
      languageSwitch(),
      signOut,
    ),
    h("div", { class: "frame" }, nav, main),
    h("div", { id: "live-region", class: "toasts", role: "status", "aria-live": "polite" }),
  );
  return main;
}

async function route(): Promise<void> {
  document.documentElement.lang = lang();
  document.title = t("product");
  const [name = "", ...params] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!me) {
    renderSignIn(app, languageSwitch, signedIn);
    return;
  }
  const allowed = ROUTES.filter((r) => r.roles.includes(me!.role));
  const found = allowed.find((r) => r.path === name);
  if (!found) {
    if (name === "" || name === "signin") {
      location.replace(`#/${isOfficer(me.role) ? "incidents" : "messages"}`);
      return;
    }
    const main = layout("");
    fill(main, h("h1", {}, t("notFoundPage")));
    return;
  }
  const main = layout(found.path === "incident" ? "incidents" : found.path);
  fill(main, h("p", { class: "muted" }, t("loading")));
  try {
    await found.render({ me, main, params });
  } catch (error) {
    // A fault of the page itself (not the server's answer) is for the developer console too.
    if (!(error instanceof ApiFailure)) console.error(error);
    showError(main, error);
  }
}

function signedIn(session: SessionView): void {
  rememberSession(session);
  me = session.user;
  setTimeZone(me.tenant.time_zone);
  startLiveAlerts();
  if (!location.hash || location.hash === "#/signin") location.hash = `#/${isOfficer(me.role) ? "incidents" : "messages"}`;
  else void route();
}

function signedOut(): void {
  me = null;
  stopLiveAlerts();
  location.hash = "#/signin";
  void route();
}

window.addEventListener("hashchange", () => void route());
window.addEventListener(SIGNED_OUT, () => signedOut());

(async () => {
  try {
    signedIn(await get<SessionView>("/api/v1/auth/session"));
  } catch {
    me = null;
    await route();
  }
})();
