// Test build only: loaded after each page's own script (warning, options, view). Reports
// what the page shows to the test's HTTP server and, when the test asked for it, uses the
// page as a person would: presses "send anyway" or "go back", fills in and submits the
// sign-in form, reports a message as sent to the wrong person.

const $ = (selector) => document.querySelector(selector);
const { testHooks: hooks = {} } = await browser.storage.local.get("testHooks");
const page = location.pathname.split("/").at(-2);

const report = (data) =>
  hooks.reportUrl
    ? fetch(hooks.reportUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ page, ...data }) }).catch(() => {})
    : Promise.resolve();

async function until(predicate, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

async function warning() {
  await until(() => $("#findings li") || $("#title").textContent);
  await report({
    event: "warning-shown",
    title: $("#title").textContent,
    findings: [...document.querySelectorAll("#findings li")].map((li) => ({ rule: li.dataset.rule, text: li.textContent })),
    sendAnywayShown: !$("#send").hidden,
  });
  // Unasked, a warning is pressed away ("go back"): the send fails and the test says so,
  // instead of waiting for ever on a window nobody answers.
  await new Promise((resolve) => setTimeout(resolve, hooks.autoAnswer ? hooks.answerDelayMs ?? 0 : 0));
  $(hooks.autoAnswer === "send" ? "#send" : "#back").click();
}

async function options() {
  await until(() => $("#status").textContent);
  const fields = () => ({ server: $("#server").value, tenant: $("#tenant").value, email: $("#email").value, lang: $("#lang").value });
  await report({ event: "options-shown", ...fields(), status: $("#status").innerText, labels: [...document.querySelectorAll("label")].map((l) => l.textContent) });
  // Each sign-in the test asks for (hooks.signIn, with a fresh `nonce`), typed into the form
  // and submitted, while the page stays open.
  let done = null;
  const signIn = async (form) => {
    if (!form || form.nonce === done) return;
    done = form.nonce;
    for (const [selector, value] of [["#server", form.serverUrl], ["#tenant", form.tenant], ["#email", form.email], ["#password", form.password]]) {
      $(selector).value = value;
      $(selector).dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (form.lang) $("#lang").value = form.lang;
    $("#message").textContent = "";
    $("#signin-button").click();
    await until(() => $("#message").textContent && !$("#message").textContent.endsWith("…"), 15_000);
    await report({ event: "options-signed-in", nonce: form.nonce, message: $("#message").textContent, error: $("#message").className === "error", status: $("#status").innerText, ...fields() });
  };
  browser.storage.onChanged.addListener((changes, area) => {
    if (area === "local" && changes.testHooks) signIn(changes.testHooks.newValue?.signIn);
  });
  await signIn(hooks.signIn);
}

async function view() {
  const rows = () =>
    [...document.querySelectorAll("#messages tr.message")].map((tr) => ({ id: tr.dataset.id, text: tr.textContent, canReport: Boolean(tr.querySelector("button")) }));
  const incidents = () => [...document.querySelectorAll("#incidents .incident")].map((card) => card.textContent);
  await until(() => $("#messages").children.length && $("#sends").children.length);
  await report({ event: "view-shown", messages: rows(), incidents: incidents(), sends: [...document.querySelectorAll("#sends li")].map((li) => li.textContent) });
  const wrong = hooks.reportWrong;
  if (!wrong) return;
  const row = [...document.querySelectorAll("#messages tr.message")].find((tr) => tr.dataset.id === wrong.messageId);
  row?.querySelector("button")?.click();
  const form = document.querySelector(`form.report[data-message="${CSS.escape(wrong.messageId)}"]`);
  const boxes = [...(form?.querySelectorAll("input[name=wrong]") ?? [])];
  for (const box of boxes) if (wrong.recipients.includes(box.value)) box.click();
  form?.querySelector("button[type=submit]")?.click();
  await until(() => $("#message").textContent);
  // The list is loaded again after a report: wait until the message shows its incident.
  await until(() => !rows().find((r) => r.id === wrong.messageId)?.canReport);
  await report({
    event: "view-reported",
    offered: boxes.map((b) => b.value),
    status: $("#message").textContent,
    error: $("#message").className === "error",
    messages: rows(),
    incidents: incidents(),
  });
}

const pages = { warning, options, view };
await pages[page]?.();
