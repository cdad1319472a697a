// The warning window: one popup per send that waits on the sender, and the answer it gives
// ("send" only when the verdict allows it; closing the window means "back").

export class Warnings {
  constructor(windows) {
    this.windows = windows;
    /** id -> {verdict, message, lang, resolve, windowId} */
    this.pending = new Map();
    windows.onRemoved.addListener((windowId) => {
      for (const [id, pending] of this.pending) {
        if (pending.windowId === windowId) this.answer(id, "back");
      }
    });
  }

  get size() {
    return this.pending.size;
  }

  /** Opens the window; resolves with "send" or "back". */
  ask(verdict, message, lang) {
    const id = crypto.randomUUID();
    return new Promise((resolve) => {
      this.pending.set(id, { verdict, message, lang, resolve, windowId: null });
      this.windows
        .create({ type: "popup", url: `warning/warning.html?id=${id}`, width: 620, height: 560 })
        .then((win) => {
          const pending = this.pending.get(id);
          if (pending) pending.windowId = win.id;
          else this.windows.remove(win.id).catch(() => {});
        })
        .catch((err) => {
          console.error("leakwatch: cannot open the warning", err);
          this.pending.delete(id);
          resolve("back");
        });
    });
  }

  /** What the window shows, or null when it is no longer waited on. */
  get(id) {
    const pending = this.pending.get(id);
    return pending ? { verdict: pending.verdict, message: pending.message, lang: pending.lang } : null;
  }

  answer(id, answer) {
    const pending = this.pending.get(id);
    if (!pending) return false;
    this.pending.delete(id);
    pending.resolve(answer === "send" && pending.verdict.verdict !== "block" ? "send" : "back");
    if (pending.windowId !== null) this.windows.remove(pending.windowId).catch(() => {});
    return true;
  }
}
