// The audit log: who did what, newest first (privacy officers and admins).

import { get } from "../api";
import { fill, h } from "../dom";
import { formatTime, has, t } from "../i18n";
import type { Page } from "../main";
import { table } from "../ui";

interface Entry { seq: number; at: number; actor: string; action: string; target_type: string; target_id: string }

export async function renderAudit({ main }: Page): Promise<void> {
  const { entries } = await get<{ entries: Entry[] }>("/api/v1/audit?limit=200");
  const rows = entries.sort((a, b) => b.seq - a.seq).map((e) => [formatTime(e.at), e.actor, named(`audit_${e.action}`, "auditOtherAction"), `${named(`target_${e.target_type}`, "auditOtherTarget")} ${e.target_id}`]);
  fill(main, h("h1", {}, t("auditTitle")), table(t("auditTitle"), [t("auditWhen"), t("auditWho"), t("auditAction"), t("auditTarget")], rows));
}

/** The server's action and target names, in words. */
function named(key: string, other: "auditOtherAction" | "auditOtherTarget"): string {
  return has(key) ? t(key) : t(other);
}
