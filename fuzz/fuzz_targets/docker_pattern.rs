//! Fuzzes the repository glob matcher of the docker access policy: any pattern against any
//! name must answer without panicking, and literal patterns must match exactly themselves.
#![no_main]

use keywarden::protocol::docker::pattern::{Name, Pattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let (Some(pattern), Some(username), Some(name)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let Ok(compiled) = Pattern::parse(pattern) else {
        return;
    };
    let prepared = Name::new(name);
    let matched = compiled.matches(&prepared, Some(username), Some("team"));
    let literal = !pattern.contains(['*', '?', '$']);
    if literal {
        assert_eq!(matched, pattern.trim() == name, "{pattern:?} vs {name:?}");
    }
    let across = Pattern::parse(&format!("{}**", compiled.as_str())).expect("still a pattern");
    if matched {
        assert!(across.matches(&prepared, Some(username), Some("team")));
    }
});
