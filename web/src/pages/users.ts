// Users and roles (admins): invite with a one-time password, change the role, disable and
// enable, reset the password. Every change is audit-logged by the server.

import { api, get, Role } from "../api";
import { fill, h, valueOf } from "../dom";
import { t } from "../i18n";
import type { Page } from "../main";
import { button, roleLabel, showError, showNote, table, textField } from "../ui";

interface UserEntry { id: string; email: string; role: Role; has_password: boolean; disabled_at?: number | null }
interface WithPassword { user: UserEntry; one_time_password: string }

const ROLES: Role[] = ["sender", "privacy_officer", "admin"];

function roleSelect(id: string, current: Role, label: string): HTMLElement {
  return h("fluent-select", { id, "aria-label": label }, ...ROLES.map((role) => h("fluent-option", { value: role, selected: role === current }, roleLabel(role))));
}

export async function renderUsers(page: Page): Promise<void> {
  const { main, me } = page;
  const { users } = await get<{ users: UserEntry[] }>("/api/v1/users");
  const status = h("div", { id: "users-status", "aria-live": "polite" });
  const rows = users.map((user) => {
    const role = roleSelect(`role-${user.id}`, user.role, `${t("role")}: ${user.email}`);
    role.addEventListener("change", async () => {
      try {
        await api("PATCH", `/api/v1/users/${encodeURIComponent(user.id)}`, { role: (role as HTMLSelectElement).value });
        showNote(status, t("saved"));
      } catch (error) {
        showError(status, error);
      }
    });
    const self = user.id === me.id;
    return [
      user.email,
      self ? roleLabel(user.role) : role,
      user.disabled_at ? t("disabled") : t("active"),
      h("div", { class: "row" },
        self ? null : button(`toggle-${user.id}`, user.disabled_at ? "enable" : "disable", async () => {
          try {
            await api("PATCH", `/api/v1/users/${encodeURIComponent(user.id)}`, { disabled: !user.disabled_at });
            await renderUsers(page);
          } catch (error) {
            showError(status, error);
          }
        }, "outline"),
        button(`reset-${user.id}`, "resetPassword", async () => {
          try {
            const answer = await api<WithPassword>("POST", `/api/v1/users/${encodeURIComponent(user.id)}/password`);
            showNote(status, t("resetDone", { email: user.email, password: answer.one_time_password }));
          } catch (error) {
            showError(status, error);
          }
        }, "outline"),
      ),
    ];
  });
  const email = textField("invite-email", "email", "", { type: "email" });
  const role = roleSelect("invite-role", "sender", t("role"));
  fill(main,
    h("h1", {}, t("usersTitle")),
    table(t("usersTitle"), [t("email"), t("role"), t("state"), ""], rows),
    status,
    h("section", { "aria-labelledby": "invite-title", class: "stack" },
      h("h2", { id: "invite-title" }, t("inviteTitle")),
      email,
      h("label", { class: "field" }, h("span", {}, t("role")), role),
      button("invite", "invite", async () => {
        try {
          const answer = await api<WithPassword>("POST", "/api/v1/users", { email: valueOf(email), role: (role as HTMLSelectElement).value });
          await renderUsers(page);
          showNote(document.getElementById("users-status")!, t("inviteDone", { email: answer.user.email, password: answer.one_time_password }));
        } catch (error) {
          showError(status, error);
        }
      }),
    ),
  );
}
