//! A read-through cache for the rows every token request reads (realm, client, user, password
//! hash, identity token, signing keys), so that issuing a token usually needs no database
//! round trip for them.
//!
//! A write drops only the entries it changed. Triggers log the key of every changed row in
//! `cache_change` (migration 0019); the cache reads the log and drops the entries built from
//! those rows. New rows drop nothing, since a lookup that found nothing is never cached: a
//! `docker login` or a new user leaves the cache warm. A change to a realm drops everything.
//!
//! On PostgreSQL, replicas share the database, and each logged change carries the next
//! `cache_version`. A request reads the version once, at its first cached lookup (and again
//! after each write it makes itself), and first applies the changes logged up to it. So a
//! write acknowledged by any replica is honoured by every request that starts afterwards, on
//! every replica, at the cost of one single-row read per request, which the requests that
//! arrive together share (see `cache_version`).
//!
//! On SQLite, one process owns the file, and the writer connection applies the log itself
//! (see `store::open`): SQLite's commit hook marks a write as under way just before its data
//! becomes visible, and the writer's return to the pool applies the logged changes and ends
//! it. Nothing is served while a write is under way, so a response that follows a write (a
//! revocation, say) never sees what it replaced.
//!
//! Either way, a row is kept only if no change began to be applied while it was read:
//! `pending` names the last change whose dropping has begun, and a load keeps its row only
//! while `pending` is still what it was when the load began. A row read before a change was
//! committed and kept before the change was applied is dropped when it is.

use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::PgPool;

use super::cache_version::VersionReads;
use super::tokens::StoredToken;
use super::StoreError;
use crate::domain::{Client, Realm, RealmId, User, UserId};

/// Entries kept per kind: a bound on memory, above the working set of a busy installation,
/// that garbage lookups cannot grow past. When full, half the entries go.
const MAX_ENTRIES: usize = 16_384;

/// Changes applied one by one at most; a longer run of changes drops the whole cache.
pub(crate) const MAX_CHANGES: usize = 10_000;

/// One logged change: the table and the key the trigger logged (see migration 0019).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub table: String,
    pub key: String,
}

impl Change {
    /// Whether the change drops every entry (a realm's, or a change no key names).
    fn drops_all(&self) -> bool {
        self.table == "realm" || self.key.is_empty()
    }
}

/// The cached tables, one bit each: which memos a SQLite write under way concerns.
pub mod tables {
    pub const REALM: u8 = 1;
    pub const CLIENT: u8 = 2;
    pub const APP_USER: u8 = 4;
    pub const CREDENTIAL: u8 = 8;
    pub const REFRESH_TOKEN: u8 = 16;
    pub const REALM_KEY: u8 = 32;

    /// The bit of `table` if a change to one of its rows (`insert`: a new row) may make
    /// cached entries stale: any change but a new row, and any change to realm keys (as the
    /// change log has it, migration 0019). Zero for every other table.
    pub fn changed(table: &str, insert: bool) -> u8 {
        match (table, insert) {
            ("realm_key", _) => REALM_KEY,
            (_, true) => 0,
            ("realm", _) => REALM,
            ("client", _) => CLIENT,
            ("app_user", _) => APP_USER,
            ("credential", _) => CREDENTIAL,
            ("refresh_token", _) => REFRESH_TOKEN,
            _ => 0,
        }
    }
}

/// The changes being applied, indexed by table and key, so that each entry is checked in
/// constant time however many there are.
pub struct ChangeIndex<'a> {
    by_table: HashMap<&'a str, HashSet<&'a str>>,
}

impl<'a> ChangeIndex<'a> {
    fn new(changes: &'a [Change]) -> Self {
        let mut by_table: HashMap<&str, HashSet<&str>> = HashMap::new();
        for change in changes {
            by_table
                .entry(change.table.as_str())
                .or_default()
                .insert(change.key.as_str());
        }
        ChangeIndex { by_table }
    }

    /// Whether `table`'s row `key` changed.
    pub fn contains(&self, table: &str, key: &str) -> bool {
        self.by_table
            .get(table)
            .is_some_and(|keys| keys.contains(key))
    }
}

/// Whether the changes make the entry (key, value) stale.
pub type Staleness<K, V> = fn(&K, &V, &ChangeIndex<'_>) -> bool;

/// One kind of cached row, keyed by what it is looked up with.
pub struct Memo<K, V> {
    map: Mutex<HashMap<K, V>>,
    /// The tables its entries are read from (see `tables`).
    tables: u8,
    stale: Staleness<K, V>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo of entries read from `tables` (a realm's deletion takes everything,
    /// so `tables::REALM` is always added), which `stale` tells apart from a change.
    pub(crate) fn new(tables: u8, stale: Staleness<K, V>) -> Self {
        Memo {
            map: Mutex::new(HashMap::new()),
            tables: tables | tables::REALM,
            stale,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().get(key).cloned()
    }

    /// Keeps a row read by a load that began when `pending` was `began`, if no change has
    /// been applied since.
    fn put(&self, key: K, value: V, pending: &AtomicU64, began: u64) {
        let mut map = self.lock();
        if pending.load(Ordering::SeqCst) != began {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            let mut keep = false;
            map.retain(|_, _| {
                keep = !keep;
                keep
            });
        }
        map.insert(key, value);
    }

    /// Changes the entry for `key` in place, if there is one.
    pub(crate) fn update<Q>(&self, key: &Q, change: impl FnOnce(&mut V))
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some(value) = self.lock().get_mut(key) {
            change(value);
        }
    }
}

/// What the cache needs of a memo to apply changes to it.
pub(crate) trait Evict: Send + Sync {
    /// Drops the entries `changes` make stale.
    fn evict(&self, changes: &ChangeIndex<'_>);
    /// Drops every entry.
    fn clear(&self);
}

impl<K: Eq + Hash + Send, V: Clone + Send> Evict for Memo<K, V> {
    fn evict(&self, changes: &ChangeIndex<'_>) {
        let stale = self.stale;
        self.lock().retain(|key, value| !stale(key, value, changes));
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

tokio::task_local! {
    /// The shared version a request read, until it writes (see the module documentation).
    static REQUEST_EPOCH: Cell<Option<u64>>;
}

/// Runs one request: its cached lookups share one read of the shared version.
pub async fn request_scope<F: Future>(request: F) -> F::Output {
    REQUEST_EPOCH.scope(Cell::new(None), request).await
}

/// Makes the current request read the shared version again at its next lookup: called after
/// each of its own writes, so it sees them.
pub(crate) fn forget_request_epoch() {
    let _ = REQUEST_EPOCH.try_with(|epoch| epoch.set(None));
}

/// PostgreSQL's side: the version reads, and the one catch-up at a time.
struct Shared {
    reads: VersionReads,
    pool: PgPool,
    catching_up: tokio::sync::Mutex<()>,
}

/// The cached kinds and the state of the changes applied to them.
pub struct ReadCache {
    shared: Option<Shared>,
    /// SQLite: the cached tables the writer's open transaction changed so far.
    touched: AtomicU8,
    /// SQLite: the cached tables changed by commits whose logged changes are not applied yet.
    writing: AtomicU8,
    /// SQLite: the writer is recording identity-token uses, which change no cached entry.
    recording_uses: AtomicBool,
    /// The last change whose dropping has begun.
    pending: AtomicU64,
    /// The last change dropped (on PostgreSQL, a `cache_version`).
    applied: AtomicU64,
    pub(crate) realms_by_name: Memo<String, Realm>,
    pub(crate) clients_by_client_id: Memo<(RealmId, String), Client>,
    pub(crate) users_by_id: Memo<UserId, User>,
    pub(crate) users_by_username: Memo<(RealmId, String), User>,
    pub(crate) password_hashes: Memo<UserId, String>,
    pub(crate) tokens_by_digest: Memo<Vec<u8>, StoredToken>,
    /// Memos kept elsewhere (the keyring's).
    others: Mutex<Vec<Arc<dyn Evict>>>,
}

impl ReadCache {
    /// A cache whose changes the SQLite writer applies.
    pub(crate) fn new() -> Self {
        Self::with_shared(None)
    }

    /// A cache that applies the changes PostgreSQL logged up to the version a request reads.
    pub(crate) fn shared(pool: PgPool) -> Self {
        Self::with_shared(Some(Shared {
            reads: VersionReads::new(pool.clone()),
            pool,
            catching_up: tokio::sync::Mutex::new(()),
        }))
    }

    fn with_shared(shared: Option<Shared>) -> Self {
        ReadCache {
            shared,
            touched: AtomicU8::new(0),
            writing: AtomicU8::new(0),
            recording_uses: AtomicBool::new(false),
            pending: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            realms_by_name: Memo::new(tables::REALM, |_, _, _| false),
            clients_by_client_id: Memo::new(tables::CLIENT, |_, client, changes| {
                changes.contains("client", client.id.as_str())
            }),
            users_by_id: Memo::new(tables::APP_USER, |id, _, changes| {
                changes.contains("app_user", id.as_str())
            }),
            users_by_username: Memo::new(tables::APP_USER, |_, user, changes| {
                changes.contains("app_user", user.id.as_str())
            }),
            password_hashes: Memo::new(tables::APP_USER | tables::CREDENTIAL, |id, _, changes| {
                changes.contains("credential", id.as_str())
            }),
            tokens_by_digest: Memo::new(
                tables::APP_USER | tables::CLIENT | tables::REFRESH_TOKEN,
                |_, token, changes| changes.contains("refresh_token", &token.id),
            ),
            others: Mutex::new(Vec::new()),
        }
    }

    /// Applies changes to `memo` too, which lives elsewhere.
    pub(crate) fn register(&self, memo: Arc<dyn Evict>) {
        self.others
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memo);
    }

    /// Drops what `changes` make stale from every memo (everything, when `changes` is `None`:
    /// the changes are unknown).
    fn apply(&self, changes: Option<&[Change]>) {
        let drops_all =
            changes.is_none_or(|c| c.len() > MAX_CHANGES || c.iter().any(Change::drops_all));
        let others = self
            .others
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let memos: [&dyn Evict; 6] = [
            &self.realms_by_name,
            &self.clients_by_client_id,
            &self.users_by_id,
            &self.users_by_username,
            &self.password_hashes,
            &self.tokens_by_digest,
        ];
        let index = changes.filter(|_| !drops_all).map(ChangeIndex::new);
        for memo in memos.into_iter().chain(others.iter().map(|m| m.as_ref())) {
            match &index {
                Some(index) => memo.evict(index),
                None => memo.clear(),
            }
        }
    }

    /// The writer changed a row of `table` (SQLite's update hook; `insert`: a new row).
    pub(crate) fn row_changed(&self, table: &str, insert: bool) {
        if table == "refresh_token" && self.recording_uses.load(Ordering::SeqCst) {
            return;
        }
        self.touched
            .fetch_or(tables::changed(table, insert), Ordering::SeqCst);
    }

    /// Marks the writer's open transaction as one that only records identity-token uses (last
    /// use and idle expiry, which cached tokens are checked against when they look expired;
    /// migration 0024 leaves them out of the change log too), or ends that mark.
    pub(crate) fn recording_uses(&self, on: bool) {
        self.recording_uses.store(on, Ordering::SeqCst);
    }

    /// A commit is about to become visible: stop serving entries of the tables it changed
    /// (the writer's commit hook).
    pub(crate) fn write_started(&self) {
        let touched = self.touched.swap(0, Ordering::SeqCst);
        self.writing.fetch_or(touched, Ordering::SeqCst);
    }

    /// The writer's transaction was rolled back: what it changed never became visible.
    pub(crate) fn write_abandoned(&self) {
        self.touched.store(0, Ordering::SeqCst);
    }

    /// Whether a commit's changes wait to be applied (see `write_finished`).
    pub(crate) fn write_under_way(&self) -> bool {
        self.writing.load(Ordering::SeqCst) != 0
    }

    /// The writer is back in its pool with the changes its commits logged (`None`: they
    /// could not be read): drops what they made stale, and serving resumes.
    pub(crate) fn write_finished(&self, changes: Option<Vec<Change>>) {
        if changes.as_ref().is_none_or(|c| !c.is_empty()) {
            let next = self.pending.fetch_add(1, Ordering::SeqCst) + 1;
            self.apply(changes.as_deref());
            self.applied.store(next, Ordering::SeqCst);
        }
        self.writing.store(0, Ordering::SeqCst);
    }

    /// The point the request's lookups of `tables` stand at, once every change it must see
    /// is applied; `None` when nothing may be served or kept (a SQLite write to one of them
    /// under way, or the shared version or its changes unreadable).
    async fn epoch(&self, tables: u8) -> Option<u64> {
        let Some(shared) = &self.shared else {
            let applied = self.applied.load(Ordering::SeqCst);
            let writing = self.writing.load(Ordering::SeqCst);
            return (writing & tables == 0).then_some(applied);
        };
        if let Ok(Some(epoch)) = REQUEST_EPOCH.try_with(Cell::get) {
            return Some(epoch);
        }
        let version = u64::try_from(shared.reads.current().await?).ok()?;
        self.catch_up(shared, version).await?;
        let _ = REQUEST_EPOCH.try_with(|current| current.set(Some(version)));
        Some(version)
    }

    /// Applies the changes PostgreSQL logged up to `version` (and any after it read along).
    async fn catch_up(&self, shared: &Shared, version: u64) -> Option<()> {
        if self.applied.load(Ordering::SeqCst) >= version {
            return Some(());
        }
        let _turn = shared.catching_up.lock().await;
        let from = self.applied.load(Ordering::SeqCst);
        if from >= version {
            return Some(());
        }
        let logged = super::cache_changes::since(&shared.pool, from).await.ok()?;
        let upto = logged.last().map_or(version, |(v, _)| (*v).max(version));
        let complete = logged.first().is_some_and(|(first, _)| *first == from + 1)
            && logged.len() <= MAX_CHANGES;
        self.pending.store(upto, Ordering::SeqCst);
        let changes: Vec<Change> = logged.into_iter().map(|(_, change)| change).collect();
        self.apply(complete.then_some(changes.as_slice()));
        self.applied.store(upto, Ordering::SeqCst);
        Some(())
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
        self.get_usable_or_load(memo, key, |_| true, load).await
    }

    /// `get_or_load`, where a cached row that is not `usable` is read again (and replaced).
    pub(crate) async fn get_usable_or_load<K, V, Fut>(
        &self,
        memo: &Memo<K, V>,
        key: K,
        usable: impl FnOnce(&V) -> bool,
        load: impl FnOnce() -> Fut,
    ) -> Result<Option<V>, StoreError>
    where
        K: Eq + Hash,
        V: Clone,
        Fut: Future<Output = Result<Option<V>, StoreError>>,
    {
        let serving = self.epoch(memo.tables).await.is_some();
        if serving {
            if let Some(hit) = memo.get(&key).filter(|hit| usable(hit)) {
                return Ok(Some(hit));
            }
        }
        let began = self.pending.load(Ordering::SeqCst);
        let loaded = load().await?;
        if let (Some(value), true) = (&loaded, serving) {
            memo.put(key, value.clone(), &self.pending, began);
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memo() -> Memo<String, u32> {
        Memo::new(tables::APP_USER, |key, _, changes| {
            changes.contains("t", key)
        })
    }

    /// A memo the cache applies its changes to.
    fn registered(cache: &ReadCache) -> Arc<Memo<String, u32>> {
        let memo = Arc::new(memo());
        cache.register(memo.clone());
        memo
    }

    fn change(table: &str, key: &str) -> Change {
        Change {
            table: table.to_owned(),
            key: key.to_owned(),
        }
    }

    fn cache_with_one_entry() -> (ReadCache, Arc<Memo<String, u32>>) {
        let cache = ReadCache::new();
        let memo = registered(&cache);
        memo.put("a".to_owned(), 1, &cache.pending, 0);
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
    async fn serves_entries_until_a_write_changes_them() {
        let (cache, memo) = cache_with_one_entry();
        let served = |stored| lookup(&cache, &memo, stored);
        assert_eq!(served(Some(2)).await, Some(1), "served from the cache");
        cache.row_changed("app_user", false);
        cache.write_started();
        assert_eq!(served(Some(2)).await, Some(2), "not served during a write");
        cache.write_finished(Some(vec![change("t", "a")]));
        assert_eq!(served(Some(4)).await, Some(4), "read again after it");
        assert_eq!(served(None).await, Some(4), "and cached again");
    }

    #[test]
    fn recording_token_uses_is_no_write_to_cached_rows() {
        let cache = ReadCache::new();
        cache.recording_uses(true);
        cache.row_changed("refresh_token", false);
        cache.recording_uses(false);
        cache.write_started();
        assert!(!cache.write_under_way(), "a use keeps tokens served");
        cache.row_changed("refresh_token", false);
        cache.write_started();
        assert!(cache.write_under_way(), "any other token update does not");
    }

    #[test]
    fn entries_change_in_place_only_when_present() {
        let (_cache, memo) = cache_with_one_entry();
        memo.update("a", |value| *value = 7);
        memo.update("b", |value| *value = 9);
        assert_eq!(memo.get("a"), Some(7));
        assert_eq!(memo.get("b"), None);
    }

    #[tokio::test]
    async fn writes_that_change_other_rows_keep_the_entry() {
        let (cache, memo) = cache_with_one_entry();
        cache.row_changed("app_user", false);
        cache.write_started();
        cache.write_finished(Some(vec![change("t", "b"), change("u", "a")]));
        assert_eq!(lookup(&cache, &memo, Some(2)).await, Some(1));
        cache.row_changed("app_user", false);
        cache.write_started();
        cache.write_finished(Some(Vec::new()));
        assert_eq!(
            lookup(&cache, &memo, Some(2)).await,
            Some(1),
            "new rows change nothing cached"
        );
    }

    #[tokio::test]
    async fn unknown_changes_and_realm_changes_drop_everything() {
        for changes in [
            None,
            Some(vec![change("realm", "r")]),
            Some(vec![change("t", "")]),
            Some(vec![change("t", "b"); MAX_CHANGES + 1]),
        ] {
            let (cache, memo) = cache_with_one_entry();
            cache.row_changed("app_user", false);
            cache.write_started();
            cache.write_finished(changes.clone());
            assert_eq!(lookup(&cache, &memo, Some(2)).await, Some(2), "{changes:?}");
        }
    }

    #[tokio::test]
    async fn writes_to_other_tables_and_new_rows_leave_entries_served() {
        let (cache, memo) = cache_with_one_entry();
        for (table, insert) in [
            ("login_failure", false),
            ("app_user", true),
            ("client", false),
        ] {
            cache.row_changed(table, insert);
            cache.write_started();
            assert_eq!(
                lookup(&cache, &memo, Some(2)).await,
                Some(1),
                "{table} {insert}"
            );
            cache.write_finished(Some(Vec::new()));
        }
        cache.row_changed("app_user", false);
        cache.write_abandoned();
        cache.write_started();
        assert!(!cache.write_under_way(), "rolled back");
        cache.row_changed("realm_key", true);
        cache.write_started();
        assert!(cache.write_under_way(), "a new realm key");
    }

    #[tokio::test]
    async fn missing_rows_are_not_cached() {
        let cache = ReadCache::new();
        let memo = memo();
        assert_eq!(lookup(&cache, &memo, None).await, None);
        assert_eq!(lookup(&cache, &memo, Some(3)).await, Some(3));
    }

    #[tokio::test]
    async fn a_row_read_across_a_change_is_not_kept() {
        let cache = ReadCache::new();
        let memo = registered(&cache);
        let value = cache
            .get_or_load(&memo, "a".to_owned(), || async {
                cache.row_changed("app_user", false);
                cache.write_started();
                cache.write_finished(Some(vec![change("t", "a")]));
                Ok(Some(1))
            })
            .await
            .unwrap();
        assert_eq!(value, Some(1), "the caller gets what was read");
        assert_eq!(
            lookup(&cache, &memo, Some(2)).await,
            Some(2),
            "but it was read while a change was applied, so the next lookup reads again"
        );
    }

    #[tokio::test]
    async fn a_row_kept_before_its_change_is_applied_is_dropped_with_it() {
        let cache = ReadCache::new();
        let memo = registered(&cache);
        let value = cache
            .get_or_load(&memo, "a".to_owned(), || async {
                cache.row_changed("app_user", false);
                cache.write_started();
                Ok(Some(1))
            })
            .await
            .unwrap();
        assert_eq!(value, Some(1));
        cache.write_finished(Some(vec![change("t", "a")]));
        assert_eq!(lookup(&cache, &memo, Some(2)).await, Some(2));
    }

    #[test]
    fn the_map_is_bounded() {
        let memo = memo();
        let pending = AtomicU64::new(0);
        for i in 0..=MAX_ENTRIES {
            memo.put(i.to_string(), i as u32, &pending, 0);
        }
        let len = memo.lock().len();
        assert!(len <= MAX_ENTRIES && len > MAX_ENTRIES / 4, "{len}");
    }

    /// Through the real writer connection and the change log: a new row and a change to
    /// another row leave a cached user warm; a change to that user drops it.
    #[tokio::test]
    async fn writes_drop_only_the_rows_they_change() {
        use crate::domain::{RealmName, Username};
        use crate::store::{self, realms, users};

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/kw.db", dir.path().display());
        let db = store::open(&url).await.unwrap();
        let realm = Realm::new(RealmName::parse("team").unwrap());
        realms::insert(db.write(), &realm).await.unwrap();
        let user = |name: &str| User::new(realm.id.clone(), Username::parse(name).unwrap());
        let (mut cached, mut other) = (user("cached"), user("other"));
        users::insert(db.write(), &cached).await.unwrap();
        users::insert(db.write(), &other).await.unwrap();
        drop(db.write().acquire().await.unwrap());
        let first_name = |u: Option<User>| u.unwrap().first_name;
        let read = || users::find_by_id_cached(&db, &realm.id, &cached.id);
        assert_eq!(first_name(read().await.unwrap()), None);

        // Changed behind the cache, without logging: only the cache can answer the old name.
        let behind = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("DROP TRIGGER app_user_update_logged")
            .execute(&behind)
            .await
            .unwrap();
        sqlx::query("UPDATE app_user SET first_name = 'behind' WHERE username = 'cached'")
            .execute(&behind)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TRIGGER app_user_update_logged AFTER UPDATE ON app_user BEGIN
                INSERT INTO cache_change (tbl, key) VALUES ('app_user', OLD.id);
             END",
        )
        .execute(&behind)
        .await
        .unwrap();

        users::insert(db.write(), &user("new")).await.unwrap();
        drop(db.write().acquire().await.unwrap());
        assert_eq!(first_name(read().await.unwrap()), None, "a new row");
        other.first_name = Some("changed".into());
        users::update(db.write(), &other).await.unwrap();
        drop(db.write().acquire().await.unwrap());
        assert_eq!(first_name(read().await.unwrap()), None, "another row");
        cached.first_name = Some("written".into());
        users::update(db.write(), &cached).await.unwrap();
        assert_eq!(
            first_name(read().await.unwrap()).as_deref(),
            Some("written"),
            "its own row, at once"
        );
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
