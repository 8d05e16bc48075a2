//! Uses of identity tokens are written off the request path: a refresh that finds its token
//! unused for a minute hands the new last use and idle expiry to one background task, which
//! writes every use handed in meanwhile in one transaction. So tokens spread over thousands
//! of users cost one write per batch, not one per token; each write drops only the tokens it
//! changed from the read cache. A use lost in a crash only leaves the token's previous
//! expiry, and its next refresh records the use again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::store::{self, Db};

/// Uses waiting at most; beyond it a use is not recorded (its token's next refresh retries).
const MAX_PENDING: usize = 65_536;

/// One token's use: when, and the idle expiry it pushes the token to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Use {
    pub at: i64,
    pub expires_at: i64,
}

/// The handle refreshes record uses with.
#[derive(Clone)]
pub struct TokenTouches {
    pending: Arc<Mutex<HashMap<String, Use>>>,
    wake: Arc<Notify>,
}

impl TokenTouches {
    /// Starts the writer task on the current runtime.
    pub fn start(db: Db) -> TokenTouches {
        let touches = TokenTouches {
            pending: Arc::default(),
            wake: Arc::default(),
        };
        let writer = touches.clone();
        tokio::spawn(async move {
            loop {
                writer.wake.notified().await;
                let batch = std::mem::take(&mut *writer.lock());
                if batch.is_empty() {
                    continue;
                }
                let batch: Vec<(String, i64, i64)> = batch
                    .into_iter()
                    .map(|(id, used)| (id, used.at, used.expires_at))
                    .collect();
                if let Err(err) = store::tokens::touch_all(&db, &batch).await {
                    tracing::warn!(error = %err, uses = batch.len(), "recording token uses failed");
                }
            }
        });
        touches
    }

    /// Hands in a use of token `id`.
    pub fn record(&self, id: &str, used: Use) {
        let mut pending = self.lock();
        if pending.len() < MAX_PENDING || pending.contains_key(id) {
            pending.insert(id.to_owned(), used);
        }
        drop(pending);
        self.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Use>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}
