//! The kit: what every feature needs and no feature owns. Errors and the JSON extractor,
//! the client's address, the recipients' page frame and the templates' escaper, time
//! formatting, ids (random ones and the id newtypes), and the
//! infrastructure handles (database, clock, mailer, keys, settings, rate limits, writing
//! the audit log), and the rule for connections to hosts that tenants name (`outbound`).
//!
//! The rule (ADR 0007): nothing in here imports a feature or the application state. A
//! helper that two features need moves down into the kit; `tests/it/layout.rs` checks it.

pub mod audit;
pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod embedded;
pub mod error;
pub mod html;
pub mod ids;
pub mod json;
pub mod keys;
pub mod mail;
pub mod outbound;
pub mod password;
pub mod ratelimit;
pub mod time;
