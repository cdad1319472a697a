// Sign-in with a leakwatch password: the server sets the HttpOnly session cookie and answers
// the CSRF token that every later change carries.

import { api, ApiFailure, get, SessionView } from "../api";
import type { EntraApp } from "../entra";
import { fill, h, valueOf } from "../dom";
import { t } from "../i18n";
import { errorText, showProblem, textField } from "../ui";

export function renderSignIn(app: HTMLElement, languageSwitch: () => HTMLElement, signedIn: (session: SessionView) => void): void {
  const status = h("div", { id: "signin-status", "aria-live": "polite" });
  const submit = h("fluent-button", { id: "signin-button", appearance: "accent" }, t("signIn"));
  const form = h("form", { id: "signin", class: "stack", novalidate: true },
    textField("tenant", "tenant", "", { required: true, autocomplete: "organization" }),
    textField("email", "email", "", { required: true, type: "email", autocomplete: "username" }),
    textField("password", "password", "", { required: true, type: "password", autocomplete: "current-password" }),
    submit,
    status,
  );
  const send = async () => {
    const body = { tenant: valueOf(form.querySelector("#tenant")), email: valueOf(form.querySelector("#email")), password: (form.querySelector("#password") as HTMLInputElement).value };
    submit.setAttribute("disabled", "");
    try {
      signedIn(await api<SessionView>("POST", "/api/v1/auth/session", body));
    } catch (error) {
      const text = error instanceof ApiFailure && (error.status === 401 || error.status === 400) ? t("signInFailed") : errorText(error);
      showProblem(status, text);
    } finally {
      submit.removeAttribute("disabled");
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void send();
  });
  // Enter in a field and the button both sign in (Fluent's button does not submit the form).
  submit.addEventListener("click", () => void send());
  form.addEventListener("keydown", (event) => {
    if ((event as KeyboardEvent).key === "Enter") {
      event.preventDefault();
      void send();
    }
  });
  const microsoft = h("div", { id: "microsoft", class: "stack" });
  fill(app,
    h("header", { class: "top" }, h("span", { class: "brand" }, t("product")), languageSwitch()),
    h("main", { id: "content", class: "narrow" },
      h("h1", {}, t("signInTitle")),
      h("p", {}, t("signInIntro")),
      microsoft,
      form,
    ),
  );
  void offerMicrosoft(microsoft, status, signedIn);
}

/** "Sign in with Microsoft", when this deployment names its Entra app. */
async function offerMicrosoft(host: HTMLElement, status: HTMLElement, signedIn: (session: SessionView) => void): Promise<void> {
  let entra: EntraApp | null = null;
  try {
    entra = (await get<{ entra: EntraApp | null }>("config.json")).entra;
  } catch {
    return; // Passwords still work; the form says so if the server is gone.
  }
  if (!entra) return;
  const app = entra;
  const button = h("fluent-button", { id: "entra-button", appearance: "accent" }, t("signInMicrosoft"));
  button.addEventListener("click", async () => {
    button.setAttribute("disabled", "");
    try {
      let token: string;
      try {
        const module = (await import(/* @vite-ignore */ new URL("entra.js", document.baseURI).href)) as typeof import("../entra");
        token = await module.signInWithMicrosoft(app);
      } catch {
        showProblem(status, t("signInMicrosoftCancelled"));
        return;
      }
      try {
        signedIn(await api<SessionView>("POST", "/api/v1/auth/session/entra", { access_token: token }));
      } catch (error) {
        const text = error instanceof ApiFailure && error.status === 401 ? t("signInMicrosoftRefused") : errorText(error);
        showProblem(status, text);
      }
    } finally {
      button.removeAttribute("disabled");
    }
  });
  fill(host, button, h("p", { class: "muted" }, t("signInOr")));
}
