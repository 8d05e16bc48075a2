//! Fuzzes the docker scope parser and the access policy with arbitrary scope strings.
#![no_main]

use keywarden::protocol::docker::policy::{AccessPolicy, Subject};
use keywarden::protocol::docker::scope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scopes) = scope::parse_all(text.split('\n')) else {
        return;
    };
    assert!(scopes.len() <= scope::MAX_SCOPES);
    for scope in &scopes {
        assert!(!scope.resource_type.is_empty() && !scope.name.is_empty());
    }
    let policy: AccessPolicy = serde_json::from_str(
        r#"{"mode":"rules","rules":[{"repository":"${username}/**","who":"authenticated","actions":["*"]},{"repository":"library/*","who":"anonymous","actions":["pull"]}]}"#,
    )
    .expect("valid policy");
    let subject = Subject {
        username: Some("dev".into()),
        ..Subject::default()
    };
    for granted in policy.grant(&subject, &scopes) {
        let asked = scopes.iter().find(|s| s.name == granted.name).expect("granted was asked");
        assert!(granted.actions.iter().all(|a| asked.actions.contains(a)));
    }
});
