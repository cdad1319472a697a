// Test-only driver. Asks the test's HTTP server (its URL is in config.json, written by the
// test) for one command at a time, runs it in Thunderbird, and posts the result back.

const PRODUCT_ID = "leakwatch-thunderbird@leakwatch";

async function post(base, path, body) {
  await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function vcard({ name, email }) {
  return ["BEGIN:VCARD", "VERSION:4.0", `FN:${name}`, `EMAIL;PREF=1:${email}`, "END:VCARD", ""].join("\r\n");
}

async function localFolders() {
  const accounts = await browser.accounts.list();
  const local = accounts.find((a) => a.type === "none");
  if (!local) throw new Error("no Local Folders account");
  return local;
}

const ops = {
  /** Contacts and lists in the address book; `sent` (.eml texts) filed into the Sent folder. */
  async seed({ contacts, lists, sent = [] }) {
    const books = await browser.addressBooks.list();
    const book = books.find((b) => !b.readOnly && !b.remote);
    const ids = {};
    for (const contact of contacts) {
      ids[contact.email] = await browser.contacts.create(book.id, null, {
        DisplayName: contact.name,
        PrimaryEmail: contact.email,
      });
    }
    const listIds = {};
    for (const list of lists) {
      const listId = await browser.mailingLists.create(book.id, { name: list.name });
      for (const email of list.members) await browser.mailingLists.addMember(listId, ids[email]);
      listIds[list.name] = listId;
    }
    // Thunderbird flags the identity's Sent folder a moment after start-up.
    let folders = await browser.folders.query({ specialUse: ["sent"] });
    for (let i = 0; i < 100 && !folders.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      folders = await browser.folders.query({ specialUse: ["sent"] });
    }
    if (folders.length !== 1) throw new Error(`expected one Sent folder, found ${folders.length}`);
    // Filed as another device's copies would be; the product add-on must notice by itself.
    for (const [i, eml] of sent.entries()) {
      const file = new File([eml], `sent-${i}.eml`, { type: "message/rfc822" });
      await browser.messages.import(file, folders[0].id, { read: true });
    }
    return { book: book.name, lists: listIds, sentFolder: folders[0].path };
  },

  async product({ message }) {
    return browser.runtime.sendMessage(PRODUCT_ID, message);
  },

  async send({ details, attachments = [] }) {
    const tab = await browser.compose.beginNew(details);
    for (const { name, text } of attachments) {
      await browser.compose.addAttachment(tab.id, { file: new File([text], name, { type: "application/pdf" }) });
    }
    const started = Date.now();
    try {
      const result = await browser.compose.sendMessage(tab.id, { mode: "sendNow" });
      return { sent: true, headerMessageId: result?.headerMessageId, ms: Date.now() - started };
    } catch (err) {
      // A cancelled send (the sender went back) leaves the composer open.
      await browser.windows.remove(tab.windowId).catch(() => {});
      return { sent: false, error: err.message, ms: Date.now() - started };
    }
  },

  async quit() {
    setTimeout(async () => {
      for (const win of await browser.windows.getAll()) await browser.windows.remove(win.id).catch(() => {});
    }, 100);
    return { quitting: true };
  },
};

async function main() {
  const config = await (await fetch(browser.runtime.getURL("config.json"))).json();
  const base = config.testServer;
  await post(base, "/hello", { version: (await browser.runtime.getBrowserInfo()).version });
  for (;;) {
    let command;
    try {
      const response = await fetch(`${base}/next`);
      if (response.status === 204) continue;
      command = await response.json();
    } catch {
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    // Commands run side by side: the test may look at windows while a send waits.
    ops[command.op](command)
      .then((value) => ({ ok: true, value }), (err) => ({ ok: false, error: String(err?.message ?? err) }))
      .then((reply) => post(base, `/done/${command.id}`, reply))
      .catch(() => {});
    if (command.op === "quit") return;
  }
}

main();
