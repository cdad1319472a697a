import { test } from "node:test";
import assert from "node:assert/strict";
import { LANGS, STRINGS, langFor, t } from "../lib/i18n.mjs";
import { formatTime, recipientsOf } from "../lib/view-model.mjs";

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
