// Reading the compose item: HTML reduced to text without a DOM, recipients from Office's shape.

import { test } from "node:test";
import assert from "node:assert/strict";
import { htmlToText } from "../src/item.mjs";
import { messageFromItem, smartAlert, ALERT_LIMIT } from "../src/decide.mjs";

test("htmlToText keeps what a reader sees", () => {
  assert.equal(htmlToText("<p>Beste Jan,</p><p>IBAN&nbsp;NL91 ABNA 0417 1643 00</p>"), "Beste Jan,\nIBAN NL91 ABNA 0417 1643 00");
  assert.equal(htmlToText("<style>p{}</style><script>x()</script><!-- c --><b>a</b>&amp;b&#39;c&#x263A;"), "a&b'c\u263a");
  assert.equal(htmlToText("regel 1<br>regel 2<br/>regel 3"), "regel 1\nregel 2\nregel 3");
  assert.equal(htmlToText("&bogus; &#0;"), "&bogus; &#0;", "unknown entities stay as written");
});

test("messageFromItem: Office recipients as core recipients, unresolved names left out, inline images not attachments", () => {
  const message = messageFromItem({
    from: { emailAddress: "anna@boekhoudpartners.nl" },
    to: [{ emailAddress: "jan@klant.nl", displayName: "Jan Jansen" }, { emailAddress: "piet@klant.nl", displayName: "piet@klant.nl" }, { emailAddress: "", displayName: "Onbekend" }],
    attachments: [{ name: "a.pdf", size: 10, isInline: false }, { name: "logo.png", size: 5, isInline: true }],
  });
  assert.deepEqual(message.to, [{ address: "jan@klant.nl", name: "Jan Jansen" }, { address: "piet@klant.nl" }]);
  assert.deepEqual(message.attachments, [{ name: "a.pdf", size: 10 }]);
});

test("smartAlert fits many findings in 500 characters, plain and Markdown", () => {
  const findings = Array.from({ length: 20 }, (_, i) => ({ rule: "lookalike-domain", severity: "warn", recipients: [], message: `Finding number ${i} with a fairly long explanation of what looks wrong.`, suggestion: `x${i}@klant.nl` }));
  const alert = smartAlert({ verdict: "warn", findings }, "en");
  assert.ok(alert.errorMessage.length <= ALERT_LIMIT && alert.errorMessageMarkdown.length <= ALERT_LIMIT);
  assert.match(alert.errorMessage, /…and \d+ more\.$/);
  assert.ok(alert.errorMessage.includes("Finding number 0"));
  assert.ok(alert.cancelLabel.length <= 20, "Office's limit for the button text");
  const nl = smartAlert({ verdict: "block", findings: findings.slice(0, 1) }, "nl");
  assert.ok(nl.errorMessage.startsWith("Dit bericht kan niet worden verzonden:"));
  assert.ok(nl.cancelLabel.length <= 20);
  assert.equal(nl.sendModeOverride, undefined);
  assert.deepEqual(smartAlert({ verdict: "send", findings: [] }, "en"), { allowEvent: true });
});
