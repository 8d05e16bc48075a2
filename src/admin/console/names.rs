//! Names that differ only by case. Keycloak 26 keeps realm names, clientIds, role names and
//! group names case-sensitive (`TEAM-A` and `team-a` are two realms, with two sets of URLs)
//! and lowercases only usernames and emails; keywarden does the same. The console asks
//! before it creates a name that differs only by case from an existing one, since the two
//! are easy to take for one another.

use super::error::ConsoleError;
use super::form::FormData;

/// The field of a form posted again once the admin confirmed a name that differs only by
/// case from an existing one.
pub const CONFIRM_CASE: &str = "confirm_case";

/// The existing name that `wanted` differs from only by case, if any.
pub fn case_twin<'a>(existing: impl IntoIterator<Item = &'a str>, wanted: &str) -> Option<String> {
    let wanted = wanted.trim();
    existing
        .into_iter()
        .find(|name| *name != wanted && name.to_lowercase() == wanted.to_lowercase())
        .map(str::to_owned)
}

/// Refuses, until the admin confirms, creating the `kind` named `wanted` beside `existing`.
pub fn ask_on_case_twin<'a>(
    form: &FormData,
    kind: &'static str,
    existing: impl IntoIterator<Item = &'a str>,
    wanted: &str,
) -> Result<(), ConsoleError> {
    if form.checked(CONFIRM_CASE) {
        return Ok(());
    }
    match case_twin(existing, wanted) {
        Some(twin) => Err(ConsoleError::CaseTwin {
            kind,
            existing: twin,
            wanted: wanted.trim().to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_equal_but_for_case_are_twins() {
        let existing = ["team-a", "other"];
        assert_eq!(case_twin(existing, "TEAM-A").as_deref(), Some("team-a"));
        assert_eq!(case_twin(existing, "Team-A ").as_deref(), Some("team-a"));
        assert_eq!(case_twin(existing, "team-a"), None);
        assert_eq!(case_twin(existing, "team-b"), None);
    }
}
