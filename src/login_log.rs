//! Login events are written off the request path: handlers hand them to one background task
//! that stores them in batches, so issuing a token never waits for the single writer and a
//! burst of sign-ins costs one write instead of one per token. The queue is bounded in events
//! and in bytes (each event is capped in size first); a full queue makes senders wait, it
//! never drops. Readers call `flush` first and then see every event recorded before it; the
//! server flushes once more when it stops.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use crate::store::events::LoginEvent;
use crate::store::{self, Db};

/// How long the writer waits for more events before it stores a batch.
const LINGER: Duration = Duration::from_millis(25);
/// The most events stored in one statement.
const MAX_BATCH: usize = 512;
/// Events queued before senders wait for the writer.
const QUEUE: usize = 16 * 1024;
/// Bytes of queued events before senders wait for the writer.
pub const QUEUE_BYTES: usize = 8 * 1024 * 1024;
/// Attempts to store a batch, and the pause before the next one (times the attempt).
const RETRIES: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_millis(200);

enum Entry {
    Event {
        time_ms: i64,
        event: LoginEvent,
        /// The event's share of `QUEUE_BYTES`, given back once it is stored.
        bytes: OwnedSemaphorePermit,
    },
    Flush(oneshot::Sender<()>),
}

/// The handle handlers record login events with.
#[derive(Clone)]
pub struct LoginLog {
    queue: mpsc::Sender<Entry>,
    bytes: Arc<Semaphore>,
}

impl LoginLog {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> LoginLog {
        let (queue, entries) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, entries));
        LoginLog {
            queue,
            bytes: Arc::new(Semaphore::new(QUEUE_BYTES)),
        }
    }

    /// Queues an event, capped in size (see `LoginEvent::capped`), stamped with the current
    /// time.
    pub async fn record(&self, event: LoginEvent) {
        let event = event.capped();
        let size = u32::try_from(event.size().min(QUEUE_BYTES)).unwrap_or(u32::MAX);
        let Ok(bytes) = self.bytes.clone().acquire_many_owned(size).await else {
            return;
        };
        let entry = Entry::Event {
            time_ms: crate::clock::now_ms(),
            event,
            bytes,
        };
        if self.queue.send(entry).await.is_err() {
            tracing::error!("login event writer stopped; event not recorded");
        }
    }

    /// Waits until every event recorded before this call is stored.
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.queue.send(Entry::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}

async fn write_batches(db: Db, mut entries: mpsc::Receiver<Entry>) {
    let mut batch = Vec::new();
    let mut permits = Vec::new();
    let mut waiting = Vec::new();
    let mut behind = false;
    while let Some(first) = entries.recv().await {
        let mut next = Ok(first);
        if !behind && matches!(next, Ok(Entry::Event { .. })) {
            // Let a burst gather; sleeping instead of waking per event keeps senders cheap.
            tokio::time::sleep(LINGER).await;
        }
        while let Ok(entry) = next {
            match entry {
                Entry::Event {
                    time_ms,
                    event,
                    bytes,
                } => {
                    batch.push((time_ms, event));
                    permits.push(bytes);
                }
                Entry::Flush(done) => waiting.push(done),
            }
            if batch.len() >= MAX_BATCH || !waiting.is_empty() {
                break;
            }
            next = entries.try_recv();
        }
        behind = batch.len() >= MAX_BATCH;
        store_with_retries(&db, &batch).await;
        batch.clear();
        permits.clear();
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Stores a batch, trying again a few times when the database is busy or briefly failing.
async fn store_with_retries(db: &Db, batch: &[(i64, LoginEvent)]) {
    for attempt in 1..=RETRIES {
        match store::events::insert_logins(db, batch).await {
            Ok(()) => return,
            Err(err) if attempt == RETRIES => {
                tracing::error!(error = %err, events = batch.len(), "could not store login events");
            }
            Err(err) => {
                tracing::warn!(error = %err, attempt, "storing login events failed; retrying");
                tokio::time::sleep(RETRY_PAUSE * attempt).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::events::LoginEventFilter;

    #[tokio::test]
    async fn flush_stores_everything_recorded_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = store::open(&format!("sqlite://{}/kw.db", dir.path().display()))
            .await
            .unwrap();
        let realm = crate::domain::Realm::new(crate::domain::RealmName::parse("team").unwrap());
        store::realms::insert(db.write(), &realm).await.unwrap();
        let log = LoginLog::start(db.clone());
        for _ in 0..3 {
            log.record(LoginEvent {
                realm_id: realm.id.clone(),
                event_type: "LOGIN",
                user_id: None,
                client_id: Some("registry".into()),
                ip_address: None,
                error: None,
                details: Default::default(),
            })
            .await;
        }
        log.flush().await;
        let stored =
            store::events::search_logins(db.read(), &realm.id, &LoginEventFilter::default(), 0, 10)
                .await
                .unwrap();
        assert_eq!(stored.len(), 3);
        assert!(stored
            .iter()
            .all(|e| e.client_id.as_deref() == Some("registry")));
    }
}
