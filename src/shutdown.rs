//! Graceful shutdown, as Keycloak's `--shutdown-delay` and `--shutdown-timeout`: on SIGTERM
//! (or SIGINT) readiness goes down first, so a load balancer that health-checks
//! `/health/ready` stops sending new requests while the listeners still accept them; after
//! the delay the listeners close and the requests in flight get the timeout to finish.
//! SIGQUIT stops at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;

/// Set once shutdown has begun; `/health/ready` answers 503 from then on.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    /// Whether shutdown has begun.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Stops one running server: readiness down, the delay, then a graceful stop.
#[derive(Clone)]
pub struct Shutdown {
    pub(crate) handle: ServerHandle,
    pub(crate) draining: Draining,
    pub(crate) delay: Duration,
}

impl Shutdown {
    /// Reports not ready, waits the shutdown delay (while requests are still served), then
    /// closes the listeners and lets requests in flight finish within the shutdown timeout.
    pub async fn drain_and_stop(&self) {
        self.draining.set();
        tracing::info!(delay_ms = self.delay.as_millis() as u64, "shutting down");
        tokio::time::sleep(self.delay).await;
        self.handle.stop(true).await;
    }

    /// Stops the server on the process's signals: SIGTERM and SIGINT drain first, SIGQUIT
    /// stops at once. Needs a running Tokio reactor; the binary calls it, tests need not.
    pub fn on_signals(self) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut quit = signal(SignalKind::quit())?;
        actix_web::rt::spawn(async move {
            tokio::select! {
                _ = term.recv() => self.drain_and_stop().await,
                _ = int.recv() => self.drain_and_stop().await,
                _ = quit.recv() => self.handle.stop(false).await,
            }
        });
        Ok(())
    }
}

/// Parses a duration as Keycloak writes them: `500ms`, `2s`, `1m`, or plain seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = raw
        .find(|c: char| !c.is_ascii_digit())
        .map_or((raw, ""), |at| raw.split_at(at));
    let bad = || format!("invalid duration '{raw}': expected e.g. 500ms, 2s or 1m");
    let value: u64 = digits.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(value),
        "" | "s" => Duration::from_secs(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if duration > Duration::from_secs(3600) {
        return Err(format!("invalid duration '{raw}': at most one hour"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_keycloak_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("61m").is_err());
        assert!(parse_duration("").is_err());
    }
}
