//! Uses of identity tokens are written off the request path: a refresh that finds its token
//! unused for a minute hands the new last use and idle expiry to one background task, which
//! waits a moment for more and writes every use handed in meanwhile in one transaction. So
//! tokens spread over thousands of users cost one write per batch, not one per token, and the
//! writes leave the read cache warm (see `store::tokens::touch_all`). A use lost in a crash
//! only leaves the token's previous expiry, and its next refresh records the use again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::{self, tokens::TokenUse, Db};

/// Uses waiting at most; beyond it a use is not recorded (its token's next refresh retries).
const MAX_PENDING: usize = 65_536;

/// How long the writer gathers uses after the first one before writing them.
const GATHER: Duration = Duration::from_millis(200);

/// The handle refreshes record uses with.
#[derive(Clone)]
pub struct TokenTouches {
    pending: Arc<Mutex<HashMap<String, TokenUse>>>,
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
                tokio::time::sleep(GATHER).await;
                let batch: Vec<TokenUse> =
                    std::mem::take(&mut *writer.lock()).into_values().collect();
                if batch.is_empty() {
                    continue;
                }
                if let Err(err) = store::tokens::touch_all(&db, &batch).await {
                    tracing::warn!(error = %err, uses = batch.len(), "recording token uses failed");
                }
            }
        });
        touches
    }

    /// Hands in a use of a token.
    pub fn record(&self, used: TokenUse) {
        let mut pending = self.lock();
        if pending.len() < MAX_PENDING || pending.contains_key(&used.id) {
            pending.insert(used.id.clone(), used);
        }
        drop(pending);
        self.wake.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TokenUse>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}
