// Recipients as Thunderbird hands them over, turned into addresses the core can judge.
//
// A compose field holds strings ("Jan Jansen <jan@klant.nl>", "\"Jansen, Jan\"
// <jan@klant.nl>", a bare address, a mailing list as "Name <Name>" or "Name <description>")
// or, when set by an add-on, address-book nodes ({nodeId, type: "contact"|"mailingList"};
// `id` before manifest v3). Mailing lists are expanded into their members and contacts
// replaced by their primary address, so the check sees every address the mail goes to.

/** Splits a header-style list at commas outside quotes and angle brackets. */
export function splitAddressList(value) {
  const parts = [];
  let current = "";
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\" && quoted && i + 1 < value.length) {
      current += ch + value[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "<") angle++;
    else if (!quoted && ch === ">") angle = Math.max(0, angle - 1);
    if (ch === "," && !quoted && angle === 0) {
      if (current.trim()) parts.push(current.trim());
      current = "";
    } else {
      current += ch;
    }
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/**
 * One mailbox: `{name, address}` (name may be ""). "Name <addr>", "\"Quoted, Name\" <addr>",
 * "addr" and "addr (comment)" are understood; the address is returned as written.
 */
export function parseMailbox(text) {
  const value = String(text ?? "").trim();
  const angle = value.match(/^(.*?)<([^<>]*)>\s*$/s);
  if (angle) {
    return { name: unquote(angle[1].trim()), address: angle[2].trim() };
  }
  const comment = value.match(/^([^\s()]+)\s*\((.*)\)$/s);
  if (comment) return { name: comment[2].trim(), address: comment[1] };
  return { name: "", address: value };
}

function unquote(name) {
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    return name.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return name;
}

/** The parts of a vCard (4.0 or 3.0) that matter here: the name and the e-mail addresses. */
export function parseVCard(vcard) {
  const lines = String(vcard ?? "")
    .replace(/\r\n|\r/g, "\n")
    .replace(/\n[ \t]/g, "")
    .split("\n");
  let name = "";
  const emails = [];
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const [property, ...params] = line.slice(0, colon).split(";");
    const key = property.replace(/^.*\./, "").toUpperCase();
    const value = line
      .slice(colon + 1)
      .replace(/\\n/gi, " ")
      .replace(/\\([,;\\])/g, "$1")
      .trim();
    if (key === "FN" && value) name = value;
    if (key === "EMAIL" && value) {
      const pref = params.some((p) => /^pref(=1)?$/i.test(p) || /^type=.*\bpref\b/i.test(p));
      emails.push({ address: value, pref });
    }
  }
  emails.sort((a, b) => Number(b.pref) - Number(a.pref));
  return { name, emails: emails.map((e) => e.address) };
}

/** A contact node's name and addresses, whether it carries a vCard (MV3) or properties. */
export function contactOf(node) {
  if (node?.vCard) return parseVCard(node.vCard);
  const p = node?.properties ?? {};
  const name = p.DisplayName || [p.FirstName, p.LastName].filter(Boolean).join(" ");
  return { name: name ?? "", emails: [p.PrimaryEmail, p.SecondEmail].filter(Boolean) };
}

/**
 * Indexes `addressBooks.list(true)`: every contact's addresses (the core's `contacts`),
 * nodes by id, and mailing lists by name, each list with its members' primary mailboxes.
 */
export function indexAddressBooks(books) {
  const contacts = [];
  const seen = new Set();
  const nodes = new Map();
  const lists = new Map();
  const primary = (node) => {
    const { name, emails } = contactOf(node);
    return emails.length ? [{ name, address: emails[0] }] : [];
  };
  for (const book of books ?? []) {
    for (const node of book.contacts ?? []) {
      const { name, emails } = contactOf(node);
      for (const address of emails) {
        const key = address.toLowerCase();
        if (seen.has(key)) continue;
        seen.add(key);
        contacts.push(name ? { address, name } : { address });
      }
      nodes.set(node.id, primary(node));
    }
    for (const list of book.mailingLists ?? []) {
      const members = (list.contacts ?? []).flatMap(primary);
      nodes.set(list.id, members);
      for (const key of [list.name, list.nickName]) {
        if (key) lists.set(key.trim().toLowerCase(), members);
      }
    }
  }
  return { contacts, nodes, lists };
}

/**
 * One compose field's recipients as `{address, name?}` objects: strings split and parsed,
 * mailing lists (by node or by name) expanded, contact nodes replaced by their primary
 * address, duplicates dropped. Entries that name no known list and have no "@" are kept
 * as written, so that the check reports them rather than the add-on hiding them.
 */
export function resolveRecipients(field, index) {
  const entries = field === undefined || field === null ? [] : Array.isArray(field) ? field : [field];
  const out = [];
  const seen = new Set();
  const push = ({ name, address }) => {
    const key = address.toLowerCase();
    if (!address || seen.has(key)) return;
    seen.add(key);
    out.push(name ? { address, name } : { address });
  };
  for (const entry of entries) {
    if (entry && typeof entry === "object") {
      const id = entry.nodeId ?? entry.id;
      for (const mailbox of index.nodes.get(id) ?? []) push(mailbox);
      continue;
    }
    for (const part of splitAddressList(String(entry))) {
      const mailbox = parseMailbox(part);
      if (mailbox.address.includes("@")) {
        push(mailbox);
        continue;
      }
      const members =
        index.lists.get(mailbox.name.toLowerCase()) ?? index.lists.get(mailbox.address.toLowerCase());
      if (members) members.forEach(push);
      else push(mailbox);
    }
  }
  return out;
}
