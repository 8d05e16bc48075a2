//! The ranges a realm's numeric settings may take.
//!
//! Keycloak reads these settings as 32-bit numbers and sets no bound of its own; here every
//! lifespan, timeout and wait is a positive number of seconds of at most ten years, so that
//! adding one to the time of day can never overflow or wrap an expiry into the past.

/// Ten years, in seconds (of 365 days).
pub const TEN_YEARS_SECS: i64 = 10 * 365 * 24 * 60 * 60;

/// The values a setting may take: from 1 to `max` of `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingRange {
    pub max: i64,
    pub unit: &'static str,
    /// `max` in words, for the message that refuses a value.
    pub max_in_words: &'static str,
}

/// A lifespan, timeout or wait.
pub const SECONDS: SettingRange = SettingRange {
    max: TEN_YEARS_SECS,
    unit: "seconds",
    max_in_words: "ten years",
};

/// A duration in milliseconds (`quickLoginCheckMilliSeconds`).
pub const MILLISECONDS: SettingRange = SettingRange {
    max: TEN_YEARS_SECS * 1000,
    unit: "milliseconds",
    max_in_words: "ten years",
};

/// A count of login failures (`failureFactor`): Keycloak's 32-bit numbers.
pub const FAILURES: SettingRange = SettingRange {
    max: i32::MAX as i64,
    unit: "failures",
    max_in_words: "the largest 32-bit number",
};

/// The range of the realm setting called `name` in the representation.
pub fn range_of(name: &str) -> SettingRange {
    match name {
        "failureFactor" => FAILURES,
        "quickLoginCheckMilliSeconds" => MILLISECONDS,
        _ => SECONDS,
    }
}

/// `value` if it lies in `range`; else a message naming the setting and its range.
pub fn within(name: &str, value: i64, range: SettingRange) -> Result<i64, String> {
    if (1..=range.max).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "{name} must be a positive number of {}, at most {} ({}), not {value}",
            range.unit, range.max, range.max_in_words
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_are_refused_with_the_setting_named() {
        assert_eq!(within("accessTokenLifespan", 300, SECONDS), Ok(300));
        assert_eq!(
            within("accessTokenLifespan", TEN_YEARS_SECS, SECONDS),
            Ok(TEN_YEARS_SECS)
        );
        for bad in [0, -1, TEN_YEARS_SECS + 1, i64::MAX, i64::MIN] {
            let error = within("accessTokenLifespan", bad, SECONDS).unwrap_err();
            assert!(
                error.starts_with("accessTokenLifespan must be a positive number of seconds, at most 315360000 (ten years)"),
                "{error}"
            );
        }
        assert_eq!(range_of("failureFactor"), FAILURES);
        assert_eq!(range_of("ssoSessionIdleTimeout"), SECONDS);
    }
}
