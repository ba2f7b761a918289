//! Quiet hours (免打扰时段): the hours in which messages to families are held, in the school's
//! time zone. `21:30-07:00` spans midnight; `off` holds nothing.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuietHours {
    Off,
    /// From `start` (inclusive) to `end` (exclusive), local time; may span midnight.
    Between {
        start: NaiveTime,
        end: NaiveTime,
    },
}

impl Default for QuietHours {
    /// 21:30–07:00, as the issue and most schools' own rules say.
    fn default() -> Self {
        QuietHours::Between {
            start: NaiveTime::from_hms_opt(21, 30, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
        }
    }
}

impl QuietHours {
    /// When a message sent at `now` may be delivered: `None` if now, otherwise the end of the
    /// quiet hours it falls in.
    pub fn release_time(&self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let QuietHours::Between { start, end } = *self else {
            return None;
        };
        let local = now.with_timezone(&zone);
        let time = local.time();
        let quiet = if start <= end {
            time >= start && time < end
        } else {
            time >= start || time < end
        };
        if !quiet {
            return None;
        }
        // The end is today when we are before it, otherwise tomorrow (spanning midnight).
        let mut day = local.date_naive();
        if time >= end {
            day += TimeDelta::days(1);
        }
        let end_local = day.and_time(end);
        // `earliest` resolves a daylight-saving gap or overlap to a real instant.
        zone.from_local_datetime(&end_local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .or(Some(now + TimeDelta::hours(1)))
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuietHours::Off => f.write_str("off"),
            QuietHours::Between { start, end } => {
                write!(f, "{}-{}", start.format("%H:%M"), end.format("%H:%M"))
            }
        }
    }
}

/// Why a quiet-hours value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadQuietHours(String);

impl BadQuietHours {
    pub fn zh(&self) -> String {
        format!(
            "“{}”无效：应为 HH:MM-HH:MM（例如 21:30-07:00）或 off",
            self.0
        )
    }

    pub fn en(&self) -> String {
        format!(
            "\"{}\" is not valid: use HH:MM-HH:MM (e.g. 21:30-07:00) or off",
            self.0
        )
    }
}

impl FromStr for QuietHours {
    type Err = BadQuietHours;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(QuietHours::Off);
        }
        let bad = || BadQuietHours(value.to_owned());
        let (start, end) = value.split_once('-').ok_or_else(bad)?;
        let parse = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (parse(start)?, parse(end)?);
        if start == end {
            return Err(bad());
        }
        Ok(QuietHours::Between { start, end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai(h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 12, 4, h, m, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn evening_messages_wait_for_the_morning() {
        let quiet = QuietHours::default();
        let release = quiet.release_time(shanghai(22, 15), chrono_tz::Asia::Shanghai);
        assert_eq!(release, Some(shanghai(7, 0) + TimeDelta::days(1)));
    }

    #[test]
    fn early_morning_messages_wait_until_seven_the_same_day() {
        let quiet = QuietHours::default();
        let release = quiet.release_time(shanghai(5, 59), chrono_tz::Asia::Shanghai);
        assert_eq!(release, Some(shanghai(7, 0)));
    }

    #[test]
    fn daytime_messages_go_at_once() {
        let quiet = QuietHours::default();
        assert_eq!(
            quiet.release_time(shanghai(7, 0), chrono_tz::Asia::Shanghai),
            None
        );
        assert_eq!(
            quiet.release_time(shanghai(21, 29), chrono_tz::Asia::Shanghai),
            None
        );
        assert_eq!(
            QuietHours::Off.release_time(shanghai(23, 0), chrono_tz::Asia::Shanghai),
            None
        );
    }

    #[test]
    fn parses_and_prints_the_setting() {
        assert_eq!("off".parse(), Ok(QuietHours::Off));
        let q: QuietHours = "22:00-06:30".parse().unwrap_or(QuietHours::Off);
        assert_eq!(q.to_string(), "22:00-06:30");
        assert!("22:00".parse::<QuietHours>().is_err());
        assert!("25:00-06:00".parse::<QuietHours>().is_err());
        assert!("07:00-07:00".parse::<QuietHours>().is_err());
        let err = "nonsense".parse::<QuietHours>().err().map(|e| e.zh());
        assert!(err.is_some_and(|e| e.contains("nonsense")));
    }

    #[test]
    fn a_daytime_window_works_too() {
        let q: QuietHours = "12:00-14:00".parse().unwrap_or(QuietHours::Off);
        assert_eq!(
            q.release_time(shanghai(13, 0), chrono_tz::Asia::Shanghai),
            Some(shanghai(14, 0))
        );
        assert_eq!(
            q.release_time(shanghai(15, 0), chrono_tz::Asia::Shanghai),
            None
        );
    }
}
