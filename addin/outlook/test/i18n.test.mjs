// Every visible string in English and Dutch, the Dutch with "u" (never "je"/"jij"/"jouw").

import { test } from "node:test";
import assert from "node:assert/strict";
import { STRINGS, langOf } from "../src/i18n.mjs";
import { TEXTS } from "../taskpane/texts.mjs";
import { REASONS } from "../../thunderbird/lib/send.mjs";

for (const [name, table] of [["event handler", STRINGS], ["task pane", TEXTS]]) {
  test(`${name}: the same keys in both languages, no informal Dutch`, () => {
    assert.deepEqual(Object.keys(table.nl).sort(), Object.keys(table.en).sort());
    for (const [key, value] of Object.entries(table.nl)) {
      assert.ok(!/\b(je|jij|jou|jouw|jullie)\b/i.test(value), `${key}: ${value}`);
      assert.ok(value.trim(), key);
    }
  });
}

test("every reason a send can have has words", () => {
  for (const reason of [...Object.values(REASONS), "stale_notice"]) {
    assert.ok(STRINGS.en[`reason_${reason}`] && STRINGS.nl[`reason_${reason}`], reason);
  }
});

test("the display language picks Dutch for every Dutch locale, English otherwise", () => {
  assert.equal(langOf("nl-NL"), "nl");
  assert.equal(langOf("nl-BE"), "nl");
  assert.equal(langOf("en-US"), "en");
  assert.equal(langOf("de-DE"), "en");
  assert.equal(langOf(undefined), "en");
});
