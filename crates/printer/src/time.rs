//! `asctime(localtime(t))`, as postcat and mailq print times.
//!
//! The layout is C's `"%.3s %.3s%3d %.2d:%.2d:%.2d %d\n"`. The civil date
//! is computed here (so years past 9999 print as glibc prints them); only
//! the local UTC offset comes from chrono, which honours `TZ` as glibc does.

use chrono::{Local, Offset, TimeZone};

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The local UTC offset in seconds at `t` (clamped into chrono's range).
fn local_offset(t: i64) -> i64 {
    // chrono covers about +/-262,000 years; beyond that use its edge.
    const LIMIT: i64 = 8_000_000_000_000;
    let clamped = t.clamp(-LIMIT, LIMIT);
    match Local.timestamp_opt(clamped, 0) {
        chrono::LocalResult::Single(dt) | chrono::LocalResult::Ambiguous(dt, _) => {
            i64::from(dt.offset().fix().local_minus_utc())
        }
        chrono::LocalResult::None => 0,
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month as usize, day)
}

/// `asctime(localtime(&t))` including its trailing newline. glibc's
/// `localtime` fails when the year does not fit a C `int`; postcat would
/// then crash, and qsurgeon prints `(time out of range)` instead.
pub fn asctime_local(t: i64) -> String {
    let Some(local) = t.checked_add(local_offset(t)) else {
        return "(time out of range)\n".to_string();
    };
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if year - 1900 > i64::from(i32::MAX) || year - 1900 < i64::from(i32::MIN) {
        return "(time out of range)\n".to_string();
    }
    let weekday = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}\n",
        WEEKDAYS[weekday],
        MONTHS[month - 1],
        day,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_glibc_asctime_in_utc() {
        std::env::set_var("TZ", "UTC");
        assert_eq!(asctime_local(0), "Thu Jan  1 00:00:00 1970\n");
        assert_eq!(asctime_local(1_795_359_329), "Sun Nov 22 14:55:29 2026\n");
        assert_eq!(asctime_local(-1), "Wed Dec 31 23:59:59 1969\n");
        assert_eq!(
            asctime_local(253_402_300_800),
            "Sat Jan  1 00:00:00 10000\n"
        );
        assert_eq!(asctime_local(i64::MAX), "(time out of range)\n");
    }
}
