//! Day, week and month buckets in a township's own time zone: a visit at
//! 23:30 Beijing time on the 1st counts for the 1st, not for the 2nd as UTC
//! would have it. Weeks start on Monday.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Day,
    Week,
    Month,
}

/// Most buckets one series may have (a year of days, with room).
pub const MAX_BUCKETS: usize = 400;

impl Bucket {
    /// Buckets shown when no period is given: 30 days, 12 weeks, 12 months.
    pub fn default_count(self) -> u32 {
        match self {
            Bucket::Day => 30,
            Bucket::Week | Bucket::Month => 12,
        }
    }

    /// The local date starting the bucket that holds `date`.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => date,
            Bucket::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            Bucket::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The local date starting the bucket after the one starting at `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => start + Duration::days(1),
            Bucket::Week => start + Duration::days(7),
            Bucket::Month => start + Months::new(1),
        }
    }

    /// The local date starting the bucket `n` buckets before the one starting at `start`.
    pub fn back(self, start: NaiveDate, n: u32) -> NaiveDate {
        match self {
            Bucket::Day => start - Duration::days(i64::from(n)),
            Bucket::Week => start - Duration::days(7 * i64::from(n)),
            Bucket::Month => start - Months::new(n),
        }
    }
}

/// A township's time zone; an unknown name falls back to Beijing time.
pub fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Asia::Shanghai)
}

/// The local date of `at` in `tz`.
pub fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// Local midnight starting `date` in `tz`, as an instant.
pub fn midnight(date: NaiveDate, tz: Tz) -> DateTime<Tz> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Midnight may be skipped by a DST change; take the first instant after it.
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| tz.from_utc_datetime(&naive))
}

/// Counts of `times` per bucket from the bucket holding `from` up to the one
/// holding the instant before `to`, empty buckets included.
pub fn series(
    times: &[DateTime<Utc>],
    bucket: Bucket,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Tz>, u64)> {
    let first = bucket.start_of(local_date(from, tz));
    let last = bucket.start_of(local_date(to - Duration::microseconds(1), tz));
    let mut starts = Vec::new();
    let mut start = first;
    while start <= last && starts.len() < MAX_BUCKETS {
        starts.push(start);
        start = bucket.next(start);
    }
    let mut counts = vec![0u64; starts.len()];
    for at in times {
        let day = bucket.start_of(local_date(*at, tz));
        if let Ok(i) = starts.binary_search(&day) {
            counts[i] += 1;
        }
    }
    starts
        .into_iter()
        .map(|s| midnight(s, tz))
        .zip(counts)
        .collect()
}

/// How many buckets lie between `from` and `to`.
pub fn bucket_count(bucket: Bucket, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> usize {
    let last = bucket.start_of(local_date(to - Duration::microseconds(1), tz));
    let mut start = bucket.start_of(local_date(from, tz));
    let mut n = 0;
    while start <= last && n <= MAX_BUCKETS {
        n += 1;
        start = bucket.next(start);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn late_evening_beijing_time_counts_for_that_day() {
        let tz = zone("Asia/Shanghai");
        let times = [utc("2026-11-01T15:30:00Z"), utc("2026-11-01T16:30:00Z")];

        let days = series(
            &times,
            Bucket::Day,
            tz,
            utc("2026-10-31T16:00:00Z"),
            utc("2026-11-02T16:00:00Z"),
        );

        assert_eq!(days.len(), 2);
        assert_eq!(days[0].0.to_rfc3339(), "2026-11-01T00:00:00+08:00");
        assert_eq!(days[0].1, 1, "23:30 on the 1st, Beijing time");
        assert_eq!(days[1].1, 1, "00:30 on the 2nd");
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(); // a Saturday
        assert_eq!(
            Bucket::Week.start_of(date),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        assert_eq!(
            Bucket::Month.start_of(date),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        assert_eq!(
            Bucket::Month.back(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), 2),
            NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
        );
    }

    #[test]
    fn empty_buckets_are_zero() {
        let tz = zone("Asia/Shanghai");
        let weeks = series(
            &[],
            Bucket::Week,
            tz,
            utc("2026-11-01T00:00:00Z"),
            utc("2026-11-28T00:00:00Z"),
        );
        assert_eq!(weeks.len(), 5);
        assert!(weeks.iter().all(|(_, n)| *n == 0));
    }

    #[test]
    fn an_unknown_zone_falls_back_to_beijing() {
        assert_eq!(zone("Mars/Olympus"), chrono_tz::Asia::Shanghai);
    }
}
