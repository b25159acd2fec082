//! Timestamps as RFC 3339 UTC with microseconds, and durations in milliseconds.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Datelike, Local, Timelike, Utc};

/// Terminal output shows times in local time (`--local`) instead of UTC; JSON is always UTC.
static LOCAL_DISPLAY: AtomicBool = AtomicBool::new(false);

/// Show terminal times in the machine's local time (its zone's offset at each instant, so a
/// capture across a daylight-saving change reads as the wall clock did). Returns whether the
/// local zone is known; if not, chrono reads the zone as UTC and so do the times shown.
pub fn use_local_time() -> bool {
    LOCAL_DISPLAY.store(true, Ordering::Relaxed);
    local_zone_known()
}

/// TZ set, or the system's zone file present: otherwise "local" would silently be UTC.
fn local_zone_known() -> bool {
    std::env::var_os("TZ").is_some_and(|tz| !tz.is_empty())
        || std::path::Path::new("/etc/localtime").exists()
        || cfg!(not(unix))
}

/// Wall-clock time of day for terminal output, `HH:MM:SS` (or with `.mmm` when `millis`).
pub fn clock(ts_ns: i64, millis: bool) -> String {
    let utc = DateTime::from_timestamp_nanos(ts_ns);
    let (h, m, s, ns) = if LOCAL_DISPLAY.load(Ordering::Relaxed) {
        let t = utc.with_timezone(&Local);
        (t.hour(), t.minute(), t.second(), t.nanosecond())
    } else {
        (utc.hour(), utc.minute(), utc.second(), utc.nanosecond())
    };
    if millis {
        format!("{h:02}:{m:02}:{s:02}.{:03}", ns / 1_000_000)
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The calendar date for terminal output, `YYYY-MM-DD`, in the same zone as `clock`.
pub fn date(ts_ns: i64) -> String {
    let utc = DateTime::from_timestamp_nanos(ts_ns);
    if LOCAL_DISPLAY.load(Ordering::Relaxed) {
        utc.with_timezone(&Local).format("%Y-%m-%d").to_string()
    } else {
        utc.format("%Y-%m-%d").to_string()
    }
}

/// "UTC" or "local time": what `clock` and `date` show.
pub fn zone_name() -> &'static str {
    if LOCAL_DISPLAY.load(Ordering::Relaxed) {
        "local time"
    } else {
        "UTC"
    }
}

/// RFC 3339 UTC with microseconds (truncated), `2009-02-13T23:31:30.123456Z`, as chrono's
/// `%Y-%m-%dT%H:%M:%S%.6fZ` writes it. Written by hand: every `--json` line has one, and
/// chrono's format-string interpreter cost about 4,000 instructions a call.
pub fn rfc3339_us(ts_ns: i64) -> String {
    const NS_PER_S: i64 = 1_000_000_000;
    let (secs, sub_ns) = (ts_ns.div_euclid(NS_PER_S), ts_ns.rem_euclid(NS_PER_S));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(27);
    // An i64 of nanoseconds spans the years 1677 to 2262: always four digits.
    push_digits(&mut out, year, 4);
    out.push('-');
    push_digits(&mut out, month, 2);
    out.push('-');
    push_digits(&mut out, day, 2);
    out.push('T');
    push_digits(&mut out, sod / 3600, 2);
    out.push(':');
    push_digits(&mut out, sod / 60 % 60, 2);
    out.push(':');
    push_digits(&mut out, sod % 60, 2);
    out.push('.');
    push_digits(&mut out, sub_ns / 1000, 6);
    out.push('Z');
    out
}

/// `v` (not negative) as exactly `width` decimal digits, zero-padded on the left.
fn push_digits(out: &mut String, v: i64, width: u32) {
    let mut div = 10_i64.pow(width.saturating_sub(1));
    for _ in 0..width {
        let digit = (v / div).rem_euclid(10);
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        div /= 10;
    }
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`: 400-year eras of 146,097 days, years starting in March).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whole-second RFC 3339 UTC, as certificate validity dates are given.
pub fn rfc3339_seconds(unix: i64) -> String {
    // Four-digit years only, as RFC 3339 (and X.509 GeneralizedTime) write them.
    match DateTime::<Utc>::from_timestamp(unix, 0).filter(|t| (0..=9999).contains(&t.year())) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => format!("@{unix}"),
    }
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
    fn truncates_to_microseconds_before_the_epoch_too() {
        assert_eq!(rfc3339_us(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(rfc3339_us(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn writes_what_chrono_writes_across_the_whole_range() {
        let chrono_text = |ns: i64| {
            DateTime::from_timestamp_nanos(ns)
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string()
        };
        let mut fixed = vec![i64::MIN, i64::MAX, -1, 0, 1, 951_782_400_000_000_000];
        // Leap days and century years (2000 is leap, 2100 is not), and their eves.
        for day in [
            11_016_i64, 11_017, 11_381, 47_540, 47_541, 47_482, -25_509, -25_508,
        ] {
            fixed.extend([
                day * 86_400 * 1_000_000_000,
                day * 86_400 * 1_000_000_000 - 1,
            ]);
        }
        for ns in fixed {
            assert_eq!(rfc3339_us(ns), chrono_text(ns), "{ns}");
        }
        // A spread of instants over the range, by a step that hits every time of day.
        let step = i64::MAX / 20_011 * 2 + 7_777_777;
        let mut ns = i64::MIN;
        for _ in 0..20_000 {
            assert_eq!(rfc3339_us(ns), chrono_text(ns), "{ns}");
            ns = ns.saturating_add(step);
        }
    }

    #[test]
    fn formats_certificate_dates_in_whole_seconds() {
        assert_eq!(rfc3339_seconds(1_234_567_890), "2009-02-13T23:31:30Z");
        assert_eq!(rfc3339_seconds(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339_seconds(253_402_300_800), "@253402300800");
        assert_eq!(rfc3339_seconds(i64::MAX), format!("@{}", i64::MAX));
    }

    #[test]
    fn clock_shows_utc_time_of_day() {
        assert_eq!(clock(1_234_567_890_123_456_789, false), "23:31:30");
        assert_eq!(clock(1_234_567_890_123_456_789, true), "23:31:30.123");
    }

    #[test]
    fn rounds_durations_to_microseconds() {
        assert_eq!(ms_between(0, 1_500_400), 1.5);
        assert_eq!(ms_between(1_000, 0), -0.001);
    }
}
