import { test } from "node:test";
import assert from "node:assert/strict";
import { LANGS, STRINGS, errorText, label, langFor, sendOutcome, t } from "../lib/i18n.mjs";
import { ApiError } from "../common/api.mjs";
import { REASONS } from "../lib/send.mjs";
import { evidenceLines, formatTime, recipientsOf } from "../lib/view-model.mjs";

test("Dutch for Dutch locales, English otherwise; placeholders filled", () => {
  assert.equal(langFor("nl-NL"), "nl");
  assert.equal(langFor("nl"), "nl");
  assert.equal(langFor("en-US"), "en");
  assert.equal(langFor("de"), "en");
  assert.equal(langFor(undefined), "en");
  assert.equal(t("nl", "suggestion", { s: "jan@klant.nl" }), "Bedoelde u jan@klant.nl?");
  assert.equal(t("en", "suggestion", { s: "jan@klant.nl" }), "Did you mean jan@klant.nl?");
});

test("the view lists every recipient of a registered message once, with its field", () => {
  const message = {
    recipients: {
      to: ["Jan <jan@klant.nl>", { address: "piet@klant.nl", name: "Piet" }],
      cc: ["JAN@klant.nl"],
      bcc: ["els@noord.nl"],
    },
  };
  assert.deepEqual(recipientsOf(message), [
    { field: "to", address: "jan@klant.nl" },
    { field: "to", address: "piet@klant.nl" },
    { field: "bcc", address: "els@noord.nl" },
  ]);
  assert.deepEqual(recipientsOf({}), []);
  assert.equal(formatTime("nonsense", "en"), "nonsense");
  assert.equal(formatTime(null, "en"), "");
  assert.match(formatTime(Date.UTC(2026, 0, 2, 12, 0), "nl"), /2026/);
});

test("every text exists in both languages, with the same placeholders", () => {
  assert.deepEqual(Object.keys(STRINGS).sort(), [...LANGS].sort());
  const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(STRINGS.en)) {
    assert.ok(STRINGS.nl[key], `nl lacks ${key}`);
    assert.deepEqual(placeholders(STRINGS.nl[key]), placeholders(STRINGS.en[key]), key);
  }
  assert.deepEqual(Object.keys(STRINGS.nl).sort(), Object.keys(STRINGS.en).sort());
});

/** Every code the server sends that the view shows (docs/incidents.md). */
const SERVER_CODES = {
  incident: ["open", "to_notify", "notified", "not_notified"],
  evidence: ["opened_in_mail_client", "fetched_by_proxy_only", "only_scanned", "not_opened", "not_tracked"],
  alert: ["client_open", "incident_summary", "not_opened", "possible_forwarding", "undecided_reminder"],
};

test("no code reaches the screen: the server's codes and the send outcomes read as words in both languages", () => {
  for (const lang of LANGS) {
    for (const [group, codes] of Object.entries(SERVER_CODES)) {
      for (const code of codes) {
        const text = label(lang, group, code);
        assert.notEqual(text, t(lang, "unknownCode"), `${lang} ${group} ${code}`);
        assert.ok(!text.includes("_") && text !== code, `${lang} ${group} ${code}: ${text}`);
      }
    }
    assert.equal(label(lang, "alert", "something_new"), t(lang, "unknownCode"), "an unknown code is not shown raw");
    for (const outcome of ["tracked", "disclosed", "untracked", "cancelled"]) {
      const text = sendOutcome(lang, { outcome });
      assert.ok(!text.includes("outcome_") && !text.includes("_"), `${lang} ${outcome}: ${text}`);
    }
    for (const reason of Object.values(REASONS)) {
      const text = sendOutcome(lang, { outcome: "untracked", reason });
      assert.ok(!text.includes("reason_") && !/\b[a-z]+_[a-z_]+\b/.test(text), `${lang} ${reason}: ${text}`);
    }
  }
});

test("the evidence in words: fetches per class with first and last time in the tenant's zone, forwarding", () => {
  const first = Date.UTC(2026, 0, 2, 23, 30);
  const last = Date.UTC(2026, 0, 3, 8, 5);
  const evidence = {
    hits_total: 5,
    status: "opened_in_mail_client",
    distinct_clients: 2,
    possible_forwarding: true,
    by_class: [
      { class: "google_proxy", hits: 1, first_at: last, last_at: last, distinct_clients: 1 },
      { class: "direct", hits: 3, first_at: first, last_at: last, distinct_clients: 2 },
      { class: "something_new", hits: 1, first_at: last, last_at: last, distinct_clients: 1 },
    ],
  };
  const nl = evidenceLines(evidence, "nl", "Europe/Amsterdam");
  assert.equal(nl[0], "Ophalingen in totaal: 5");
  // 23:30 UTC is 00:30 the next day in Amsterdam (winter time).
  assert.equal(nl[1], "Een mailprogramma: 3 keer opgehaald, eerst op 3 jan 2026, 00:30, laatst op 3 jan 2026, 09:05");
  assert.equal(nl[2], "De afbeeldingsproxy van Google: 1 keer opgehaald, op 3 jan 2026, 09:05");
  assert.ok(nl[3].startsWith("Overig: 1 keer"), "an unknown class reads 'other', not the code");
  assert.ok(nl.includes(STRINGS.nl.possibleForwarding));
  const en = evidenceLines(evidence, "en", "Europe/Amsterdam");
  assert.equal(en[1], "A mail client: fetched 3 times, first 3 Jan 2026, 00:30, last 3 Jan 2026, 09:05");
  // One fetch: the singular, and one time rather than the same first and last.
  assert.equal(en[2], "Google's image proxy: fetched once, at 3 Jan 2026, 09:05");
  assert.ok(!en.some((line) => line.includes("(s)")), "no 'time(s)'");
  assert.deepEqual(evidenceLines({ hits_total: 0, status: "not_opened", by_class: [], distinct_clients: 0, possible_forwarding: false }, "en"), [STRINGS.en.noFetches]);
  for (const line of [...nl, ...en]) assert.ok(!/\b[a-z]+_[a-z_]+\b/.test(line), line);
});

test("failures in words, never the server's English message", () => {
  for (const lang of LANGS) {
    assert.equal(errorText(lang, new ApiError(0, "timeout", "no complete answer within 10000 ms")), STRINGS[lang].error_unreachable);
    assert.equal(errorText(lang, new ApiError(401, "invalid_credentials", "x"), "login"), STRINGS[lang].error_login);
    assert.equal(errorText(lang, new ApiError(401, "token_expired", "x")), STRINGS[lang].error_signIn);
    assert.equal(errorText(lang, { status: 503, code: "unavailable", message: "x" }), t(lang, "error_server", { status: "HTTP 503" }));
    assert.equal(errorText(lang, new ApiError(0, "invalid_server_url", "not a URL")), STRINGS[lang].error_url);
    assert.equal(errorText(lang, new Error("boom")), STRINGS[lang].error_other);
  }
});

test("an alert reads in the add-on's language; one raised before both were kept, in its own", async () => {
  const { alertText } = await import("../lib/view-model.mjs");
  const alert = {
    title: "Mogelijk doorgestuurd: \u201cLoonstrook\u201d",
    body: "Het bericht is geopend door 2 verschillende mailprogramma's of netwerken, bij 1 verkeerde ontvanger.",
    texts: {
      en: { title: "Possibly forwarded: \u201cLoonstrook\u201d", body: "The message was opened by 2 different mail clients or networks, for 1 wrong recipient." },
      nl: { title: "Mogelijk doorgestuurd: \u201cLoonstrook\u201d", body: "Het bericht is geopend door 2 verschillende mailprogramma's of netwerken, bij 1 verkeerde ontvanger." },
    },
  };
  assert.deepEqual(alertText(alert, "en"), alert.texts.en);
  assert.deepEqual(alertText(alert, "nl"), alert.texts.nl);
  const older = { title: alert.title, body: alert.body };
  assert.deepEqual(alertText(older, "en"), { title: alert.title, body: alert.body });
});
