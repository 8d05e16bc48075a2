//! Shared server state, handed to handlers through `web::Data`.

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::passwords::PasswordHasher;
use crate::keyring::Keyring;
use crate::login_log::LoginLog;
use crate::protocol::brute_force::Guesses;
use crate::protocol::verified_credentials::VerifiedCredentials;
use crate::shutdown::Draining;
use crate::store::Db;
use crate::token_touches::TokenTouches;

/// Everything a request handler may need.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub passwords: PasswordHasher,
    pub keyring: Keyring,
    pub login_log: LoginLog,
    /// Identity-token uses waiting to be written.
    pub touches: TokenTouches,
    /// The time request paths read (tests move it).
    pub clock: Clock,
    /// Password guesses being checked, for brute-force protection.
    pub guesses: Guesses,
    /// Credentials that verified recently (see `protocol::verified_credentials`).
    pub verified: VerifiedCredentials,
    /// Set once shutdown has begun (readiness then answers 503).
    pub draining: Draining,
}
