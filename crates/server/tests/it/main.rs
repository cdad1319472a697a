//! The server's integration tests, one binary (one link, one process to start): the real
//! server on port 0 against SQLite and PostgreSQL, through `leakwatch-testkit`, and the
//! parts that run without it (the alert engine, the layout rule).

mod addin;
mod alert_engine;
mod alerts;
mod api;
mod auth;
mod dashboard;
mod html_headers;
mod incidents;
mod input;
mod layout;
mod openapi;
mod pixel;
mod privacy;
mod schemathesis;
mod sessions;
mod transparency_browser;
