//! Credentials that verified recently, so that a client sending the same username and password
//! with every request (skopeo, podman, or docker without an identity token: on every pull)
//! pays the password hash once per lifespan instead of every time.
//!
//! An entry is found by a keyed hash (HMAC-SHA-256 under a random key of this process) of the
//! realm, the username as typed and the password; the password itself is never kept. It holds
//! the user it verified and a digest of the stored hash it verified against, and it counts
//! only while both still match what the store holds now (read through the store's coherent
//! read cache, so a password change on any replica ends it at once). The caller uses it only
//! when no failure is on record for the name (see `login`), so a lockout or a failed guess
//! also ends it; a disabled or deleted user fails the checks that follow verification as
//! before. A miss is verified in full and counts toward brute-force protection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::{digest, hmac, rand};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{RealmId, UserId};

/// Entries kept at most; when full, expired ones go, then half of the rest.
const MAX_ENTRIES: usize = 16_384;

/// The keyed hash of one set of credentials.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag([u8; 32]);

struct Entry {
    user: UserId,
    stored: [u8; 32],
    verified_at: Instant,
}

/// See the module documentation.
pub struct VerifiedCredentials {
    key: hmac::Key,
    lifespan: Duration,
    entries: Mutex<HashMap<Tag, Entry>>,
}

impl VerifiedCredentials {
    /// A cache whose entries last `lifespan` (zero: nothing is ever kept).
    pub fn new(lifespan: Duration) -> Self {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rand::SystemRandom::new())
            .expect("the system random source works");
        VerifiedCredentials {
            key,
            lifespan,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The keyed hash of `username` and `password` in `realm`: each part length-prefixed, so
    /// no two sets of parts give the same input.
    pub fn tag(&self, realm: &RealmId, username: &str, password: &SecretString) -> Tag {
        let mut context = hmac::Context::with_key(&self.key);
        for part in [realm.as_str(), username, password.expose_secret()] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part.as_bytes());
        }
        let mut tag = [0u8; 32];
        tag.copy_from_slice(context.sign().as_ref());
        Tag(tag)
    }

    /// Whether `tag` verified as `user` against the hash `stored`, within the lifespan.
    pub fn recalls(&self, tag: &Tag, user: &UserId, stored: &str, now: Instant) -> bool {
        let entries = self.lock();
        entries.get(tag).is_some_and(|entry| {
            &entry.user == user
                && entry.stored == digest_of(stored)
                && now.saturating_duration_since(entry.verified_at) < self.lifespan
        })
    }

    /// Keeps that `tag` verified as `user` against `stored` at `now`.
    pub fn remember(&self, tag: Tag, user: &UserId, stored: &str, now: Instant) {
        if self.lifespan.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now.saturating_duration_since(e.verified_at) < self.lifespan);
        }
        if entries.len() >= MAX_ENTRIES {
            let mut keep = false;
            entries.retain(|_, _| {
                keep = !keep;
                keep
            });
        }
        entries.insert(
            tag,
            Entry {
                user: user.clone(),
                stored: digest_of(stored),
                verified_at: now,
            },
        );
    }

    /// Forgets `tag` (its credentials failed, or no longer match).
    pub fn forget(&self, tag: &Tag) {
        self.lock().remove(tag);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Tag, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

fn digest_of(stored: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, stored.as_bytes()).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFESPAN: Duration = Duration::from_secs(60);

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_remembered_credential_is_recalled_while_its_state_holds() {
        let cache = VerifiedCredentials::new(LIFESPAN);
        let (realm, user, now) = (RealmId::new(), UserId::new(), Instant::now());
        let tag = cache.tag(&realm, "alice", &secret("pw"));
        assert!(!cache.recalls(&tag, &user, "$hash1", now), "not before");
        cache.remember(tag, &user, "$hash1", now);
        assert!(cache.recalls(&tag, &user, "$hash1", now));
        assert!(
            !cache.recalls(&tag, &user, "$hash2", now),
            "password changed"
        );
        assert!(
            !cache.recalls(&tag, &UserId::new(), "$hash1", now),
            "other user"
        );
        assert!(
            !cache.recalls(&tag, &user, "$hash1", now + LIFESPAN),
            "lifespan over"
        );
        cache.forget(&tag);
        assert!(!cache.recalls(&tag, &user, "$hash1", now));
    }

    #[test]
    fn tags_tell_every_part_apart_and_depend_on_the_process_key() {
        let cache = VerifiedCredentials::new(LIFESPAN);
        let realm = RealmId::new();
        let tag = |user: &str, password: &str| cache.tag(&realm, user, &secret(password));
        assert!(tag("alice", "pw") == tag("alice", "pw"));
        assert!(tag("alice", "pw") != tag("alice", "pw2"));
        assert!(
            tag("alic", "epw") != tag("alice", "pw"),
            "parts are delimited"
        );
        assert!(tag("alice", "pw") != cache.tag(&RealmId::new(), "alice", &secret("pw")));
        let other = VerifiedCredentials::new(LIFESPAN);
        assert!(tag("alice", "pw") != other.tag(&realm, "alice", &secret("pw")));
    }

    #[test]
    fn a_zero_lifespan_keeps_nothing() {
        let cache = VerifiedCredentials::new(Duration::ZERO);
        let (user, now) = (UserId::new(), Instant::now());
        let tag = cache.tag(&RealmId::new(), "alice", &secret("pw"));
        cache.remember(tag, &user, "$h", now);
        assert!(!cache.recalls(&tag, &user, "$h", now));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = VerifiedCredentials::new(LIFESPAN);
        let (realm, user, now) = (RealmId::new(), UserId::new(), Instant::now());
        for i in 0..=MAX_ENTRIES {
            let tag = cache.tag(&realm, &i.to_string(), &secret("pw"));
            cache.remember(tag, &user, "$h", now);
        }
        assert!(cache.len() <= MAX_ENTRIES);
    }
}
