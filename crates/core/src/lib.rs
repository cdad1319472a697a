//! leakwatch core: the send-time recipient check and the disclosure, as pure functions.
//!
//! No I/O, no async, no clock: the same code runs natively (the `leakwatch` command line,
//! the server) and as WebAssembly inside the mail clients, so a warning in Outlook and in
//! Thunderbird is the same warning. Build a [`Checker`] once from the sender's history,
//! address book and the tenant policy, then [`Checker::check`] each draft.

pub mod address;
pub mod check;
mod confusables_table;
pub mod disclose;
pub mod draft;
pub mod history;
pub mod i18n;
pub mod org_names;
pub mod policy;
pub mod rules;
pub mod sensitive;
pub mod tracking;
pub mod verdict;

pub use check::{policy_can_block, CheckError, Checker};
pub use draft::{Attachment, Contact, Draft, Message, Recipient, SentMessage};
pub use i18n::Lang;
pub use policy::{Policy, TrackingScope};
pub use verdict::{Finding, Outcome, Severity, Verdict};
