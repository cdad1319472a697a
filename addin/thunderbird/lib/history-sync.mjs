// Keeps the stored history in step with the Sent folders: a read at start-up, retried while
// Thunderbird shows them incomplete (it lists lazily: a folder can show fewer messages than
// it counts for a while, or not be flagged as Sent yet), and a new read whenever a Sent
// folder's message count changes (mail sent from another device, a copy filed later).

import { KEYS } from "./store.mjs";
import { bootstrapHistory, HISTORY_CAP, withFolderRead } from "./history.mjs";

/** Waits between first-read attempts: about two minutes in all. */
const RETRY_MS = [500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000, 60_000];
/** A burst of folder changes (a copy being filed) gives one read. */
const SETTLE_MS = 1_500;

export class HistorySync {
  /**
   * @param {import("./store.mjs").Store} store
   * @param {object} mail  Thunderbird's `folders` and `messages` APIs (`browser`)
   * @param {() => void} onChange  the history changed (rebuild the checker)
   */
  constructor(store, mail, onChange = () => {}) {
    this.store = store;
    this.mail = mail;
    this.onChange = onChange;
    this.sentIds = new Set();
    this.retryTimer = null;
    this.settleTimer = null;
    this.attempt = 0;
  }

  read() {
    return bootstrapHistory(
      {
        sentFolders: async () => {
          const folders = await this.mail.folders.query({ specialUse: ["sent"] });
          this.sentIds = new Set(folders.map((f) => f.id));
          return folders;
        },
        list: (folderId) => this.mail.messages.list(folderId),
        continueList: (listId) => this.mail.messages.continueList(listId),
        folderInfo: (folderId) => this.mail.folders.getFolderInfo(folderId),
      },
      { cap: HISTORY_CAP },
    );
  }

  /** Reads the Sent folders and stores what they hold (keeping the add-on's own sends). */
  async rebuild() {
    const result = await this.read();
    await this.store.update(KEYS.history, null, (record) => withFolderRead(record, result));
    this.onChange();
    return { count: result.history.length, folders: result.folders, headers: result.headers, complete: result.complete };
  }

  /**
   * Reads the Sent folders now, and again with growing pauses (about two minutes in all)
   * while Thunderbird shows them incomplete: no Sent folder yet, or fewer messages listed
   * than the folder counts. Runs one read at a time.
   */
  sync() {
    if (this.syncing) {
      // A change during a read: read again after it.
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      clearTimeout(this.retryTimer);
      let complete = false;
      try {
        complete = (await this.rebuild()).complete;
      } catch (err) {
        console.warn("leakwatch: cannot read the Sent folders yet", err);
      }
      const wait = complete ? undefined : RETRY_MS[this.attempt++];
      if (complete) this.attempt = 0;
      if (wait !== undefined) this.retryTimer = setTimeout(() => this.sync(), wait);
    })().finally(() => {
      this.syncing = null;
      if (this.again) {
        this.again = false;
        this.sync();
      }
    });
    return this.syncing;
  }

  /** `folders.onFolderInfoChanged`: a Sent folder's count changed; read it once it settles. */
  folderChanged(folder, info) {
    if (!this.sentIds.has(folder.id) && !(folder.specialUse ?? []).includes("sent")) return;
    if (info?.totalMessageCount === undefined) return;
    clearTimeout(this.settleTimer);
    this.attempt = 0;
    this.settleTimer = setTimeout(() => this.sync(), SETTLE_MS);
  }
}
