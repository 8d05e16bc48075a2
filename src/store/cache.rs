//! A read-through cache for the rows every token request reads (realm, client, user, password
//! hash, identity token, signing keys), so that issuing a token usually needs no database
//! round trip for them.
//!
//! Entries are served only while the epoch they were read under is current. Where the epoch
//! comes from depends on the database.
//!
//! On PostgreSQL, replicas share the database, so the epoch is the database's own
//! `cache_version`, which a trigger bumps inside every transaction that changes a cached table
//! (migration 0017). A request reads it once, at its first cached lookup (and again after each
//! write it makes itself), and uses entries only if they were read under that version. So a
//! write acknowledged by any replica is honoured by every request that starts afterwards, on
//! every replica, at the cost of one single-row read per request, which the requests that
//! arrive together share (see `cache_version`).
//!
//! On SQLite, one process owns the file, and the epoch is kept in memory by the writer
//! connection itself (see `store::open`): SQLite's commit hook marks a write as under way just
//! before its data becomes visible, and the writer's return to the pool ends it by moving to a
//! new epoch. Nothing is served or kept while a write is under way, and an entry is served
//! only while the epoch it was read under is current. A reader takes the epoch before it
//! queries, so a row read before a commit always carries an older epoch than any served after
//! it, and a response that follows a write (a revocation, say) never sees what it replaced.

use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use sqlx::PgPool;

use super::cache_version::VersionReads;
use super::tokens::StoredToken;
use super::StoreError;
use crate::domain::{Client, Realm, RealmId, User, UserId};

/// Entries kept per kind before the whole map is dropped: a bound on memory, far above the
/// working set of a busy realm, that garbage lookups cannot grow past.
const MAX_ENTRIES: usize = 4096;

/// One kind of cached row, keyed by what it is looked up with.
pub struct Memo<K, V> {
    inner: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    epoch: u64,
    map: HashMap<K, V>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) fn new() -> Self {
        Memo {
            inner: Mutex::new(Entries {
                epoch: 0,
                map: HashMap::new(),
            }),
        }
    }

    fn get<Q>(&self, key: &Q, epoch: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (entries.epoch == epoch)
            .then(|| entries.map.get(key).cloned())
            .flatten()
    }

    fn put(&self, key: K, value: V, epoch: u64) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.epoch != epoch {
            if epoch < entries.epoch {
                return;
            }
            entries.map.clear();
            entries.epoch = epoch;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert(key, value);
    }
}

tokio::task_local! {
    /// The shared epoch a request read, until it writes (see the module documentation).
    static REQUEST_EPOCH: Cell<Option<u64>>;
}

/// Runs one request: its cached lookups share one read of the shared epoch.
pub async fn request_scope<F: Future>(request: F) -> F::Output {
    REQUEST_EPOCH.scope(Cell::new(None), request).await
}

/// Makes the current request read the shared epoch again at its next lookup: called after
/// each of its own writes, so it sees them.
pub(crate) fn forget_request_epoch() {
    let _ = REQUEST_EPOCH.try_with(|epoch| epoch.set(None));
}

/// The cached kinds and the epoch they are checked against.
pub struct ReadCache {
    /// PostgreSQL's version reads, when epochs are the database's `cache_version`.
    shared: Option<VersionReads>,
    /// The epoch, shifted left once; the low bit is set while a write is under way (SQLite).
    state: AtomicU64,
    /// Set while the writer commits only rows no cached read depends on (login events).
    quiet: AtomicBool,
    pub(crate) realms_by_name: Memo<String, Realm>,
    pub(crate) clients_by_client_id: Memo<(RealmId, String), Client>,
    pub(crate) users_by_id: Memo<UserId, User>,
    pub(crate) users_by_username: Memo<(RealmId, String), User>,
    pub(crate) password_hashes: Memo<UserId, String>,
    pub(crate) tokens_by_digest: Memo<Vec<u8>, StoredToken>,
}

impl ReadCache {
    /// A cache whose epochs the SQLite writer keeps.
    pub(crate) fn new() -> Self {
        Self::with_epochs(None)
    }

    /// A cache whose epochs are PostgreSQL's `cache_version`.
    pub(crate) fn shared(pool: PgPool) -> Self {
        Self::with_epochs(Some(pool))
    }

    fn with_epochs(shared: Option<PgPool>) -> Self {
        ReadCache {
            shared: shared.map(VersionReads::new),
            state: AtomicU64::new(0),
            quiet: AtomicBool::new(false),
            realms_by_name: Memo::new(),
            clients_by_client_id: Memo::new(),
            users_by_id: Memo::new(),
            users_by_username: Memo::new(),
            password_hashes: Memo::new(),
            tokens_by_digest: Memo::new(),
        }
    }

    /// A commit is about to become visible: stop serving entries (the writer's commit hook).
    pub(crate) fn write_started(&self) {
        if !self.quiet.load(Ordering::SeqCst) {
            self.state.fetch_or(1, Ordering::SeqCst);
        }
    }

    /// The writer is back in its pool: if it committed, everything read before is stale, and
    /// caching resumes.
    pub(crate) fn write_finished(&self) {
        let _ = self
            .state
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
                (s & 1 == 1).then_some(s + 1)
            });
    }

    /// Keeps the writer's commits from invalidating the cache until the guard is dropped.
    /// Only for a caller that holds the writer connection and writes nothing that is cached.
    pub(crate) fn quiet_writes(&self) -> QuietWrites<'_> {
        self.quiet.store(true, Ordering::SeqCst);
        QuietWrites(self)
    }

    /// The current epoch, or `None` when nothing may be served or kept (a SQLite write under
    /// way, or the shared version unreadable).
    async fn epoch(&self) -> Option<u64> {
        let Some(reads) = &self.shared else {
            let state = self.state.load(Ordering::SeqCst);
            return (state & 1 == 0).then_some(state);
        };
        if let Ok(Some(epoch)) = REQUEST_EPOCH.try_with(Cell::get) {
            return Some(epoch);
        }
        let version = reads.current().await?;
        let epoch = u64::try_from(version).ok()?;
        let _ = REQUEST_EPOCH.try_with(|current| current.set(Some(epoch)));
        Some(epoch)
    }

    /// The cached row for `key`, or the one `load` reads (kept when found).
    pub(crate) async fn get_or_load<K, V, Fut>(
        &self,
        memo: &Memo<K, V>,
        key: K,
        load: impl FnOnce() -> Fut,
    ) -> Result<Option<V>, StoreError>
    where
        K: Eq + Hash,
        V: Clone,
        Fut: Future<Output = Result<Option<V>, StoreError>>,
    {
        let epoch = self.epoch().await;
        if let Some(hit) = epoch.and_then(|epoch| memo.get(&key, epoch)) {
            return Ok(Some(hit));
        }
        let loaded = load().await?;
        if let (Some(value), Some(epoch)) = (&loaded, epoch) {
            memo.put(key, value.clone(), epoch);
        }
        Ok(loaded)
    }
}

/// See `ReadCache::quiet_writes`.
pub(crate) struct QuietWrites<'a>(&'a ReadCache);

impl Drop for QuietWrites<'_> {
    fn drop(&mut self) {
        self.0.quiet.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_with_one_entry() -> (ReadCache, Memo<String, u32>) {
        let cache = ReadCache::new();
        let memo = Memo::new();
        memo.put("a".to_owned(), 1, cache.state.load(Ordering::SeqCst));
        (cache, memo)
    }

    async fn lookup(
        cache: &ReadCache,
        memo: &Memo<String, u32>,
        stored: Option<u32>,
    ) -> Option<u32> {
        cache
            .get_or_load(memo, "a".to_owned(), || async move { Ok(stored) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn serves_entries_until_a_write() {
        let (cache, memo) = cache_with_one_entry();
        let served = |stored| lookup(&cache, &memo, stored);
        assert_eq!(served(Some(2)).await, Some(1), "served from the cache");
        cache.write_started();
        assert_eq!(served(Some(2)).await, Some(2), "not served during a write");
        assert_eq!(served(Some(3)).await, Some(3), "nor kept");
        cache.write_finished();
        assert_eq!(served(Some(4)).await, Some(4), "read again after it");
        assert_eq!(served(None).await, Some(4), "and cached again");
    }

    #[tokio::test]
    async fn quiet_commits_keep_entries() {
        let (cache, memo) = cache_with_one_entry();
        {
            let _quiet = cache.quiet_writes();
            cache.write_started();
        }
        cache.write_finished();
        assert_eq!(lookup(&cache, &memo, Some(2)).await, Some(1));
        cache.write_started();
        cache.write_finished();
        assert_eq!(
            lookup(&cache, &memo, Some(2)).await,
            Some(2),
            "loud ones do not"
        );
    }

    #[tokio::test]
    async fn missing_rows_are_not_cached() {
        let cache = ReadCache::new();
        let memo = Memo::new();
        assert_eq!(lookup(&cache, &memo, None).await, None);
        assert_eq!(lookup(&cache, &memo, Some(3)).await, Some(3));
    }

    #[tokio::test]
    async fn a_row_read_across_a_write_is_never_served() {
        let cache = ReadCache::new();
        let memo = Memo::new();
        let value = cache
            .get_or_load(&memo, "a".to_owned(), || async {
                cache.write_started();
                cache.write_finished();
                Ok(Some(1))
            })
            .await
            .unwrap();
        assert_eq!(value, Some(1), "the caller gets what was read");
        assert_eq!(
            lookup(&cache, &memo, Some(2)).await,
            Some(2),
            "but it was stored under the old epoch, so the next lookup reads again"
        );
    }

    #[test]
    fn a_late_put_does_not_clear_newer_entries() {
        let memo = Memo::new();
        memo.put("new".to_owned(), 2, 5);
        memo.put("old".to_owned(), 1, 4);
        assert_eq!(memo.get("new", 5), Some(2));
        assert_eq!(memo.get("old", 5), None);
    }

    #[test]
    fn the_map_is_bounded() {
        let memo = Memo::new();
        for i in 0..=MAX_ENTRIES {
            memo.put(i.to_string(), i, 0);
        }
        let entries = memo.inner.lock().unwrap();
        assert!(entries.map.len() <= MAX_ENTRIES);
    }

    /// Through the real writer connection: a change made by a write is seen by the very next
    /// read, even before the writer is back in its pool.
    #[tokio::test]
    async fn the_read_after_a_write_sees_it() {
        use crate::domain::RealmName;
        use crate::store::{self, realms};

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/kw.db", dir.path().display());
        let db = store::open(&url).await.unwrap();
        let mut realm = Realm::new(RealmName::parse("team").unwrap());
        realms::insert(db.write(), &realm).await.unwrap();
        // The writer is handed out again only once its release ended the write.
        drop(db.write().acquire().await.unwrap());
        let lifespan = |r: Option<Realm>| r.unwrap().access_token_lifespan;
        let first = lifespan(realms::find_by_name_cached(&db, "team").await.unwrap());

        let behind_the_cache = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE realm SET access_token_lifespan = 7")
            .execute(&behind_the_cache)
            .await
            .unwrap();
        let cached = lifespan(realms::find_by_name_cached(&db, "team").await.unwrap());
        assert_eq!(cached, first, "the row is served from the cache");

        let event = crate::store::events::LoginEvent {
            realm_id: realm.id.clone(),
            event_type: "LOGIN",
            user_id: None,
            client_id: None,
            ip_address: None,
            error: None,
            details: Default::default(),
        };
        store::events::insert_logins(&db, &[(1, event)])
            .await
            .unwrap();
        let cached = lifespan(realms::find_by_name_cached(&db, "team").await.unwrap());
        assert_eq!(cached, first, "a login event leaves the cache warm");

        realm.access_token_lifespan = 42;
        realms::update(db.write(), &realm).await.unwrap();
        let after = lifespan(realms::find_by_name_cached(&db, "team").await.unwrap());
        assert_eq!(after, 42, "the write is seen at once");
    }
}
