//! Timestamps as RFC 3339 UTC with microseconds, and durations in milliseconds.

use std::sync::OnceLock;

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The offset terminal output shows times in (UTC unless `--local`); JSON is always UTC.
static DISPLAY_OFFSET: OnceLock<UtcOffset> = OnceLock::new();

/// Show terminal times in the machine's local time. Call before any thread starts: the local
/// offset can only be read safely then; if it cannot be read, times stay in UTC.
pub fn use_local_time() -> bool {
    match UtcOffset::current_local_offset() {
        Ok(offset) => DISPLAY_OFFSET.set(offset).is_ok(),
        Err(_) => false,
    }
}

/// Wall-clock time of day for terminal output, `HH:MM:SS` (or with `.mmm` when `millis`).
pub fn clock(ts_ns: i64, millis: bool) -> String {
    let offset = DISPLAY_OFFSET.get().copied().unwrap_or(UtcOffset::UTC);
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ns)) else {
        return format!("@{ts_ns}ns");
    };
    let t = t.to_offset(offset);
    if millis {
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

pub fn rfc3339_us(ts_ns: i64) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ns))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| format!("@{ts_ns}ns"))
}

/// Whole-second RFC 3339 UTC, as certificate validity dates are given.
pub fn rfc3339_seconds(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| format!("@{unix}"))
}

/// Milliseconds between two capture times, rounded to microseconds.
pub fn ms_between(from_ns: i64, to_ns: i64) -> f64 {
    ((to_ns.saturating_sub(from_ns)) as f64 / 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_microseconds_in_utc() {
        assert_eq!(
            rfc3339_us(1_234_567_890_123_456_789),
            "2009-02-13T23:31:30.123456Z"
        );
    }

    #[test]
    fn rounds_durations_to_microseconds() {
        assert_eq!(ms_between(0, 1_500_400), 1.5);
        assert_eq!(ms_between(1_000, 0), -0.001);
    }
}
