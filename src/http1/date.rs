//! The HTTP `Date` header value (IMF-fixdate, RFC 9110 §5.6.7), computed from Unix
//! seconds without a calendar library, and cached per second by the caller.

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
/// Month abbreviations, January first (also used by the access log's dates).
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `unix_secs` seconds since the epoch.
pub fn http_date(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01 (Howard Hinnant's
/// days-to-civil algorithm, for non-negative day counts).
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A `Date` value reformatted only when the second changes.
#[derive(Debug, Default)]
pub struct DateCache {
    secs: Option<u64>,
    value: String,
}

impl DateCache {
    /// The value for `unix_secs`.
    pub fn get(&mut self, unix_secs: u64) -> &str {
        if self.secs != Some(unix_secs) {
            self.value = http_date(unix_secs);
            self.secs = Some(unix_secs);
        }
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_795_729_756), "Thu, 26 Nov 2026 21:49:16 GMT");
        assert_eq!(http_date(4_133_980_799), "Fri, 31 Dec 2100 23:59:59 GMT");
    }

    #[test]
    fn every_day_for_400_years_is_well_formed_and_increasing() {
        let mut previous = (0, 0, 0);
        for d in 0..146_097u64 {
            let ymd = civil_from_days(d);
            assert!(
                ymd > previous || d == 0,
                "day {d}: {ymd:?} after {previous:?}"
            );
            assert!((1..=12).contains(&ymd.1) && (1..=31).contains(&ymd.2));
            previous = ymd;
        }
    }

    #[test]
    fn cache_reformats_only_on_a_new_second() {
        let mut cache = DateCache::default();
        assert_eq!(cache.get(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(cache.get(1), "Thu, 01 Jan 1970 00:00:01 GMT");
    }
}
