//! The ranges a realm's numeric settings may take.
//!
//! Keycloak reads these settings as 32-bit numbers and sets no bound of its own; here every
//! lifespan, timeout and wait is a positive number of seconds of at most ten years, so that
//! adding one to the time of day can never overflow or wrap an expiry into the past.

use std::ops::RangeInclusive;

/// Ten years, in seconds (of 365 days).
pub const TEN_YEARS_SECS: i64 = 10 * 365 * 24 * 60 * 60;

/// A lifespan, timeout or wait, in seconds.
pub const SECONDS: RangeInclusive<i64> = 1..=TEN_YEARS_SECS;

/// A duration in milliseconds (`quickLoginCheckMilliSeconds`).
pub const MILLISECONDS: RangeInclusive<i64> = 1..=TEN_YEARS_SECS * 1000;

/// A count (`failureFactor`): Keycloak's 32-bit positive numbers.
pub const COUNT: RangeInclusive<i64> = 1..=i32::MAX as i64;

/// The range of the realm setting called `name` in the representation.
pub fn range_of(name: &str) -> RangeInclusive<i64> {
    match name {
        "failureFactor" => COUNT,
        "quickLoginCheckMilliSeconds" => MILLISECONDS,
        _ => SECONDS,
    }
}

/// `value` if it lies in `range`; else a message naming the setting and its range.
pub fn within(name: &str, value: i64, range: &RangeInclusive<i64>) -> Result<i64, String> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{name} must be between {} and {}, not {value}",
            range.start(),
            range.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_are_refused_with_the_setting_named() {
        assert_eq!(within("accessTokenLifespan", 300, &SECONDS), Ok(300));
        assert_eq!(
            within("accessTokenLifespan", TEN_YEARS_SECS, &SECONDS),
            Ok(TEN_YEARS_SECS)
        );
        for bad in [0, -1, TEN_YEARS_SECS + 1, i64::MAX, i64::MIN] {
            let error = within("accessTokenLifespan", bad, &SECONDS).unwrap_err();
            assert!(
                error.starts_with("accessTokenLifespan must be between 1 and"),
                "{error}"
            );
        }
    }
}
