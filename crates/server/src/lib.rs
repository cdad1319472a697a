//! The leakwatch backend: tenants and users, authentication, message registration at send
//! time, the leak-detection pixel (its hot path), incidents. SQLite by default, PostgreSQL to
//! scale out. See `docs/configuration.md` for settings and `/docs` on a running server.

pub mod admin;
pub mod alerts;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod evidence;
pub mod info;
pub mod keys;
pub mod mail;
pub mod notification;
pub mod oidc;
pub mod openapi;
pub mod password;
pub mod pixel;
pub mod privacy;
pub mod ratelimit;
pub mod state;

pub use app::Application;
pub use config::Config;
