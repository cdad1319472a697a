// Reading the compose item through Office.js, shared by the event handler and the task pane.

import { messageFromItem } from "./decide.mjs";

/** An Office async method as a promise (its callback is the last argument). */
export function office(method, ...args) {
  return new Promise((resolve, reject) => {
    method(...args, (result) => {
      if (result && result.status === "failed") reject(new Error((result.error && result.error.message) || "Office call failed"));
      else resolve(result ? result.value : undefined);
    });
  });
}

/** The core Message of the item being composed, and its body type ("html" or "text"). */
export async function readItem(item) {
  const [from, to, cc, bcc, subject, body, attachments, bodyType] = await Promise.all([
    office(item.from.getAsync.bind(item.from)),
    office(item.to.getAsync.bind(item.to)),
    office(item.cc.getAsync.bind(item.cc)),
    office(item.bcc.getAsync.bind(item.bcc)),
    office(item.subject.getAsync.bind(item.subject)),
    office(item.body.getAsync.bind(item.body), "text"),
    office(item.getAttachmentsAsync.bind(item)),
    office(item.body.getTypeAsync.bind(item.body)),
  ]);
  return { message: messageFromItem({ from, to, cc, bcc, subject, body, attachments }), bodyType: String(bodyType).toLowerCase() };
}
