//! The check (in progress).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);
pub struct Checker;
