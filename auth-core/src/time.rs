//! `Timestamp`: an instant as microseconds since the Unix epoch.
//!
//! Tokens, cut-offs and database rows all use this one representation, so "issued before
//! the revocation" compares exactly, not rounded to the second, on every backend. Only
//! handlers read the clock ([`Timestamp::now`]); everything else takes `now` as an argument.
//! Instants are shown as RFC 3339 ([`Timestamp::to_rfc3339`]) and read back the same way
//! ([`Timestamp::parse_rfc3339`]), so a time copied from an answer can be sent again.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const MICROS_PER_SEC: i64 = 1_000_000;

impl Timestamp {
    /// The current time. Call it in handlers and pass the value down.
    pub fn now() -> Self {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX))
    }

    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(MICROS_PER_SEC))
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds, rounded down (JWT NumericDate).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(MICROS_PER_SEC)))
    }

    /// RFC 3339 in UTC with microseconds, for API responses.
    pub fn to_rfc3339(self) -> String {
        let secs = self.as_secs();
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            rem / 3600,
            (rem / 60) % 60,
            rem % 60
        )
    }
}

impl Timestamp {
    /// An RFC 3339 date-time (`2026-12-01T06:13:03.094494Z`, `2026-12-01t07:13:03+01:00`;
    /// `T`, `t` or a space between date and time), to the microsecond: further fraction
    /// digits are dropped. `None` for anything else, and for a date that does not exist.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        let digits = |at: usize, len: usize| -> Option<i64> {
            let part = bytes.get(at..at + len)?;
            part.iter().all(u8::is_ascii_digit).then(|| {
                part.iter()
                    .fold(0, |n, digit| n * 10 + i64::from(digit - b'0'))
            })
        };
        let at =
            |index: usize, allowed: &[u8]| bytes.get(index).is_some_and(|b| allowed.contains(b));
        if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
            return None;
        }
        let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
        let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut rest = &text[19..];
        let mut micros = 0;
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            let kept = &fraction[..len.min(6)];
            micros = kept.parse::<i64>().ok()? * 10_i64.pow(6 - kept.len() as u32);
            rest = &fraction[len..];
        }
        let offset_secs = match rest.as_bytes() {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let offset = rest.as_bytes();
                let (hours, minutes) = (
                    Self::two_digits(&offset[1..3])?,
                    Self::two_digits(&offset[4..6])?,
                );
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let secs = hours * 3600 + minutes * 60;
                if *sign == b'-' { -secs } else { secs }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
        Some(Self(secs * MICROS_PER_SEC + micros))
    }

    fn two_digits(pair: &[u8]) -> Option<i64> {
        match pair {
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            }
            _ => None,
        }
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil algorithm: days since 1970-01-01 of a date of the
/// proleptic Gregorian calendar ([`civil_from_days`]'s inverse).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_rendering() {
        assert_eq!(
            Timestamp::from_micros(0).to_rfc3339(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            Timestamp::from_micros(1_795_000_000_123_456).to_rfc3339(),
            "2026-11-18T11:06:40.123456Z"
        );
        assert_eq!(
            Timestamp::from_secs(951_782_400).to_rfc3339(),
            "2000-02-29T00:00:00.000000Z"
        );
    }

    #[test]
    fn rfc3339_parsing() {
        for micros in [
            0,
            1_795_000_000_123_456,
            951_782_400_000_000,
            -1,
            -62_135_596_800_000_000,
        ] {
            let shown = Timestamp::from_micros(micros).to_rfc3339();
            assert_eq!(
                Timestamp::parse_rfc3339(&shown),
                Some(Timestamp::from_micros(micros)),
                "{shown}"
            );
        }
        let at = |text| Timestamp::parse_rfc3339(text).map(Timestamp::as_micros);
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(at("1970-01-01t01:00:00+01:00"), Some(0));
        assert_eq!(at("1969-12-31 23:30:00-00:30"), Some(0));
        assert_eq!(at("1970-01-01T00:00:00.5Z"), Some(500_000));
        assert_eq!(at("1970-01-01T00:00:00.1234567891z"), Some(123_456));
        assert_eq!(at("2024-02-29T00:00:00Z"), Some(1_709_164_800_000_000));
        assert_eq!(at("1970-01-01T23:59:60Z"), Some(86_400_000_000));
        for bad in [
            "",
            "1970-01-01",
            "1970-01-01T00:00:00",
            "1970-01-01T00:00Z",
            "1970-01-01T00:00:00.Z",
            "1970-01-01T00:00:00+0100",
            "1970-01-01T00:00:00+24:00",
            "1970-01-01T00:00:00 01:00",
            "1970-13-01T00:00:00Z",
            "1970-00-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "1970-04-31T00:00:00Z",
            "1970-01-01T24:00:00Z",
            "1970-01-01T00:60:00Z",
            "1970-01-01T00:00:61Z",
            "+970-01-01T00:00:00Z",
            "1970-01-01T00:00:00Zjunk",
            "1970-01-01T00:00:00.1é",
            "１970-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn seconds_round_down() {
        assert_eq!(Timestamp::from_micros(1_999_999).as_secs(), 1);
        assert_eq!(Timestamp::from_secs(5).plus_secs(2).as_micros(), 7_000_000);
    }
}
