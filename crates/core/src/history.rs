//! Contact model (in progress).
