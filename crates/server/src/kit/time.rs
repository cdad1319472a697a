//! Times as the server writes them: Unix milliseconds inside, RFC 3339 in JSON and exports,
//! and a short UTC minute for people (alerts, the notification draft). One formatter, so
//! the alert mail and the draft never disagree about a time.

/// Milliseconds since the Unix epoch, by the system clock (see [`crate::kit::clock`] for
/// the clock that rules and jobs use).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A Unix-millisecond time as RFC 3339 UTC (`2026-03-01T09:30:00.250Z`), clamped to the
/// years 1970 to 9999 that humantime formats.
pub fn rfc3339(ms: i64) -> String {
    const LAST: i64 = 253_402_300_799_999;
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.clamp(0, LAST) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

/// A time for people: `2026-12-01 14:05 UTC`.
pub fn utc_minute(ms: i64) -> String {
    // 2026-12-01T14:05:09.000Z -> 2026-12-01 14:05 UTC
    let text = rfc3339(ms);
    format!("{} {} UTC", &text[..10], &text[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_772_357_400_250), "2026-03-01T09:30:00.250Z");
        assert_eq!(rfc3339(-1), "1970-01-01T00:00:00.000Z");
        // Round trip through the core's parser, over many days.
        for day in (0..30_000).step_by(37) {
            let ms = day * 86_400_000 + 45_296_000;
            let text = rfc3339(ms);
            assert_eq!(
                leakwatch_core::history::parse_rfc3339(&text).map(|s| s * 1000),
                Some(ms),
                "{text}"
            );
        }
    }

    #[test]
    fn times_read_as_utc_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_796_125_509_000), "2026-12-01 11:45 UTC");
        assert_eq!(utc_minute(i64::MAX), "9999-12-31 23:59 UTC");
    }
}
