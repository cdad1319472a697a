//! The leakwatch backend: tenants and users, authentication, message registration at send
//! time, the leak-detection pixel (its hot path), incidents, alerts, privacy. SQLite by
//! default, PostgreSQL to scale out. See `docs/configuration.md` for settings and `/docs` on
//! a running server.
//!
//! The house (ADR 0007): [`kit`] at the bottom imports no feature; above it one module per
//! feature, each with its own `router()`, handlers, queries and state; [`app`] is the
//! composition root, the only place that knows every feature and builds the state.

pub mod kit;

pub mod accounts;
pub mod addin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod checklist;
pub mod dashboard;
pub mod health;
pub mod incidents;
pub mod messages;
pub mod pixel;
pub mod policy;
pub mod privacy;
pub mod stats;
pub mod users;

pub mod app;
pub mod openapi;

pub use app::Application;
pub use kit::config::Config;
