//! Times as the server writes them: Unix milliseconds inside, RFC 3339 in JSON and exports,
//! and for people the tenant's local time ([`Zone`]: alert mails and titles, the notification
//! draft). One formatter, so the alert mail and the draft never disagree about a time.
//!
//! Time zones come from the IANA database bundled into the binary (jiff's `tzdb-bundle-always`),
//! never from the system's tzdata: every server answers the same, with or without it.

use leakwatch_core::Lang;

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

/// The zone a tenant's times are shown in until an admin sets another.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Amsterdam";

/// The longest time-zone name accepted (the IANA database's longest is 32 characters).
const MAX_ZONE_NAME: usize = 64;

/// A time zone people read times in: an IANA name (`Europe/Amsterdam`) found in the bundled
/// database, kept in its canonical spelling.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: jiff::tz::TimeZone,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::parse(DEFAULT_TIME_ZONE).expect("the bundled database has Europe/Amsterdam")
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Zone {
    /// A name someone typed: an IANA time-zone name, in any case (`europe/amsterdam` is
    /// `Europe/Amsterdam`). Fixed offsets (`+01:00`) and POSIX rules (`CET-1CEST`) are not
    /// names, and are refused: they do not follow a country's changes of summer time.
    pub fn parse(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        let example =
            "an IANA time-zone name such as Europe/Amsterdam, Europe/London or America/New_York";
        if name.is_empty() {
            return Err(format!("is empty; give {example}"));
        }
        let shown: String = name.chars().take(MAX_ZONE_NAME).collect();
        let plain = name.len() <= MAX_ZONE_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
            && name.starts_with(|c: char| c.is_ascii_alphabetic());
        let unknown = || format!("'{shown}' is not a time zone the server knows; give {example}");
        if !plain {
            return Err(unknown());
        }
        let tz = jiff::tz::TimeZone::get(name).map_err(|_| unknown())?;
        let canonical = tz.iana_name().ok_or_else(unknown)?.to_string();
        Ok(Zone {
            name: canonical,
            tz,
        })
    }

    /// A name read back from the database: checked when it was saved, so only a database
    /// edited by hand (or a zone a newer database dropped) gives the default instead.
    pub fn stored(name: &str) -> Zone {
        Zone::parse(name).unwrap_or_default()
    }

    /// The IANA name, canonically spelled.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A Unix-millisecond time to the minute, in this zone and the reader's language:
    /// `4 december 2026 om 20:43 (Europe/Amsterdam, UTC+1)`,
    /// `4 December 2026, 20:43 (Europe/Amsterdam, UTC+1)`. The offset tells the two
    /// half-past-twos of the night summer time ends apart.
    pub fn minute(&self, ms: i64, lang: Lang) -> String {
        self.format(ms, lang, false)
    }

    /// As [`Zone::minute`] with seconds (`20:43:07`): for times whose order matters, such as
    /// a timeline where sending, the first fetch and awareness can fall in one minute.
    pub fn second(&self, ms: i64, lang: Lang) -> String {
        self.format(ms, lang, true)
    }

    fn format(&self, ms: i64, lang: Lang, seconds: bool) -> String {
        let at = jiff::Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        });
        let local = at.to_zoned_datetime(self.tz.clone());
        let mut clock = format!("{:02}:{:02}", local.hour(), local.minute());
        if seconds {
            clock.push_str(&format!(":{:02}", local.second()));
        }
        let month = MONTHS[usize::from(local.month().clamp(1, 12) as u8 - 1)];
        let zone = if self.name == "UTC" {
            "UTC".to_string()
        } else {
            format!("{}, {}", self.name, utc_offset(local.offset().seconds()))
        };
        match lang {
            Lang::Nl => format!(
                "{} {} {} om {clock} ({zone})",
                local.day(),
                month.1,
                local.year()
            ),
            Lang::En => format!(
                "{} {} {}, {clock} ({zone})",
                local.day(),
                month.0,
                local.year()
            ),
        }
    }
}

/// The months in English and Dutch (Dutch writes them in lower case).
const MONTHS: [(&str, &str); 12] = [
    ("January", "januari"),
    ("February", "februari"),
    ("March", "maart"),
    ("April", "april"),
    ("May", "mei"),
    ("June", "juni"),
    ("July", "juli"),
    ("August", "augustus"),
    ("September", "september"),
    ("October", "oktober"),
    ("November", "november"),
    ("December", "december"),
];

/// An offset from UTC as people write it: `UTC+1`, `UTC+5:30`, `UTC-3`, `UTC+0`.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match minutes % 60 {
        0 => format!("UTC{sign}{}", minutes / 60),
        rest => format!("UTC{sign}{}:{rest:02}", minutes / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RFC 3339 UTC time as Unix milliseconds.
    fn at(text: &str) -> i64 {
        leakwatch_core::history::parse_rfc3339(text).expect("a valid time") * 1000
    }

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    #[test]
    fn times_read_in_the_tenants_zone_and_language() {
        let amsterdam = Zone::default();
        assert_eq!(amsterdam.name(), "Europe/Amsterdam");
        let evening = at("2026-12-04T19:43:07Z");
        assert_eq!(
            amsterdam.minute(evening, Lang::Nl),
            "4 december 2026 om 20:43 (Europe/Amsterdam, UTC+1)"
        );
        assert_eq!(
            amsterdam.minute(evening, Lang::En),
            "4 December 2026, 20:43 (Europe/Amsterdam, UTC+1)"
        );
        assert_eq!(
            amsterdam.second(evening, Lang::Nl),
            "4 december 2026 om 20:43:07 (Europe/Amsterdam, UTC+1)"
        );
        assert_eq!(
            zone("America/New_York").second(evening, Lang::En),
            "4 December 2026, 14:43:07 (America/New_York, UTC-5)"
        );
        assert_eq!(
            zone("Asia/Kolkata").minute(evening, Lang::En),
            "5 December 2026, 01:13 (Asia/Kolkata, UTC+5:30)"
        );
        assert_eq!(
            zone("UTC").minute(evening, Lang::Nl),
            "4 december 2026 om 19:43 (UTC)"
        );
        // A new year comes an hour earlier in Amsterdam; seconds are cut, not rounded.
        assert_eq!(
            amsterdam.second(at("2026-12-31T23:30:59Z") + 999, Lang::Nl),
            "1 januari 2027 om 00:30:59 (Europe/Amsterdam, UTC+1)"
        );
        // Outside the database's years the ends are shown rather than a panic.
        assert!(amsterdam.minute(i64::MAX, Lang::En).contains("9999"));
        assert!(amsterdam.minute(i64::MIN, Lang::En).contains("-9999"));
    }

    #[test]
    fn summer_time_changes_are_followed_and_told_apart() {
        let amsterdam = Zone::default();
        let nl = |text: &str| amsterdam.second(at(text), Lang::Nl);
        // Summer time begins on 29 March 2026: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            nl("2026-03-29T00:59:59Z"),
            "29 maart 2026 om 01:59:59 (Europe/Amsterdam, UTC+1)"
        );
        assert_eq!(
            nl("2026-03-29T01:00:00Z"),
            "29 maart 2026 om 03:00:00 (Europe/Amsterdam, UTC+2)"
        );
        // It ends on 25 October 2026: 02:30 happens twice, and the offset tells which.
        assert_eq!(
            nl("2026-10-25T00:30:00Z"),
            "25 oktober 2026 om 02:30:00 (Europe/Amsterdam, UTC+2)"
        );
        assert_eq!(
            nl("2026-10-25T01:30:00Z"),
            "25 oktober 2026 om 02:30:00 (Europe/Amsterdam, UTC+1)"
        );
        assert_eq!(
            amsterdam.minute(at("2026-07-01T12:00:00Z"), Lang::En),
            "1 July 2026, 14:00 (Europe/Amsterdam, UTC+2)"
        );
        // New York changes on other dates: 8 March and 1 November 2026.
        let new_york = zone("America/New_York");
        let en = |text: &str| new_york.minute(at(text), Lang::En);
        assert_eq!(
            en("2026-03-08T06:59:00Z"),
            "8 March 2026, 01:59 (America/New_York, UTC-5)"
        );
        assert_eq!(
            en("2026-03-08T07:00:00Z"),
            "8 March 2026, 03:00 (America/New_York, UTC-4)"
        );
        assert_eq!(
            en("2026-11-01T05:30:00Z"),
            "1 November 2026, 01:30 (America/New_York, UTC-4)"
        );
        assert_eq!(
            en("2026-11-01T06:30:00Z"),
            "1 November 2026, 01:30 (America/New_York, UTC-5)"
        );
        // Between the two changes Amsterdam is only 5 hours ahead of New York, not 6.
        assert_eq!(
            amsterdam.minute(at("2026-03-20T12:00:00Z"), Lang::En),
            "20 March 2026, 13:00 (Europe/Amsterdam, UTC+1)"
        );
        assert_eq!(
            new_york.minute(at("2026-03-20T12:00:00Z"), Lang::En),
            "20 March 2026, 08:00 (America/New_York, UTC-4)"
        );
    }

    #[test]
    fn zone_names_are_checked_and_spelled_canonically() {
        assert_eq!(zone("europe/amsterdam").name(), "Europe/Amsterdam");
        assert_eq!(zone(" America/New_York ").name(), "America/New_York");
        assert_eq!(zone("UTC").name(), "UTC");
        assert_eq!(zone("Etc/GMT-14").name(), "Etc/GMT-14");
        for bad in [
            "",
            "  ",
            "Mars/Olympus_Mons",
            "+01:00",
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "Europe/Amsterdam;x",
            "Europe/ Amsterdam",
            "../../etc/passwd",
            "/usr/share/zoneinfo/Europe/Amsterdam",
            &"A".repeat(200),
        ] {
            let why = Zone::parse(bad).unwrap_err();
            assert!(
                why.contains("Europe/Amsterdam") && why.len() < 250,
                "{bad:?}: {why}"
            );
        }
        assert_eq!(Zone::stored("Nowhere/Land"), Zone::default());
        assert_eq!(Zone::stored("Asia/Tokyo").name(), "Asia/Tokyo");
    }

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
}
