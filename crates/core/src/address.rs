//! Address parsing (in progress).
