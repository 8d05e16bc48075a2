//! Reads of PostgreSQL's `cache_version` (see `cache`), shared by the requests that want one
//! at the same time. A request may only use a read that *started after it arrived*: a read
//! already under way might have been answered before a write this request must see. So a
//! request either starts the next read itself or waits for the next one to start and end,
//! and every request waiting meanwhile takes that same answer. Under load one round trip
//! serves many requests; alone, a request pays exactly one. Reads go one at a time over a
//! connection of their own, outside the pool, so none pays the pool's liveness check.

use std::sync::Mutex;

use sqlx::{ConnectOptions, PgConnection, PgPool};
use tokio::sync::watch;

/// The reads started so far, and whether one is under way.
struct State {
    started: u64,
    running: bool,
}

pub(crate) struct VersionReads {
    pool: PgPool,
    /// The connection reads use, opened on first use and again after an error.
    conn: tokio::sync::Mutex<Option<PgConnection>>,
    state: Mutex<State>,
    /// The last read to end: its number and what it answered (`None`: it failed).
    done: watch::Sender<(u64, Option<i64>)>,
}

impl VersionReads {
    pub(crate) fn new(pool: PgPool) -> Self {
        VersionReads {
            pool,
            conn: tokio::sync::Mutex::new(None),
            state: Mutex::new(State {
                started: 0,
                running: false,
            }),
            done: watch::Sender::new((0, None)),
        }
    }

    /// The version as read by a read that started after this call began.
    pub(crate) async fn current(&self) -> Option<i64> {
        let mut ended = self.done.subscribe();
        let wanted = self.lock().started + 1;
        loop {
            let (number, version) = *ended.borrow_and_update();
            if number >= wanted {
                return version;
            }
            let mine = {
                let mut state = self.lock();
                (!state.running).then(|| {
                    state.running = true;
                    state.started += 1;
                    state.started
                })
            };
            match mine {
                Some(number) => {
                    let read = Read {
                        reads: self,
                        number,
                    };
                    let version = self.read().await;
                    read.end(version);
                    if number >= wanted {
                        return version;
                    }
                }
                None => {
                    if ended.changed().await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    async fn read(&self) -> Option<i64> {
        let mut held = self.conn.lock().await;
        if held.is_none() {
            *held = Some(self.pool.connect_options().connect().await.ok()?);
        }
        let conn = held.as_mut()?;
        let version = super::sql!(
            super::Exec::Postgres(super::backend::On::Conn(conn)),
            query_scalar!("SELECT version FROM cache_version WHERE id").fetch_one
        );
        if version.is_err() {
            *held = None;
        }
        version.ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A read under way; dropped before it ends (its request went away), it ends as failed so
/// that the requests waiting for it start another.
struct Read<'a> {
    reads: &'a VersionReads,
    number: u64,
}

impl Read<'_> {
    fn end(self, version: Option<i64>) {
        self.finish(version);
        std::mem::forget(self);
    }

    /// Marks the read over before publishing it, so that a waiter woken by the answer and
    /// still wanting a newer read finds none running and starts it.
    fn finish(&self, version: Option<i64>) {
        self.reads.lock().running = false;
        self.reads.done.send_replace((self.number, version));
    }
}

impl Drop for Read<'_> {
    fn drop(&mut self) {
        self.finish(None);
    }
}
