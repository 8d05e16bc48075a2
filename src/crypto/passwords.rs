//! Password hashing with Keycloak's argon2id parameters on a fixed set of dedicated threads,
//! one per core, fed from one queue: a burst of logins can neither exhaust memory nor starve
//! the async runtime, and a thread starts the next queued hash the moment it finishes one.
//! Each thread keeps its own argon2 memory, so a verify allocates nothing large.
//!
//! Verification reads every PHC string keywarden may hold: argon2id, argon2i and argon2d with
//! the parameters in the string (within the caps of `keycloak_credential`), and the PBKDF2
//! hashes imported from Keycloak (`$pbkdf2-sha256$...`). A right password checked against
//! anything but keywarden's own argon2id parameters is `Outdated`: the caller re-hashes it,
//! as Keycloak does when the stored hash does not match the current policy.

use std::collections::HashSet;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

use super::keycloak_credential::{
    argon2_work_allowed, Pbkdf2Hash, MAX_ARGON2_ITERATIONS, MAX_ARGON2_MEMORY_KIB,
    MAX_ARGON2_PARALLELISM,
};

/// Keycloak's argon2id parameters: v1.3, 5 iterations, 7168 KiB, parallelism 1, 32-byte hash.
pub fn keycloak_argon2() -> Argon2<'static> {
    let params = Params::new(7168, 5, 1, Some(32)).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash with the same parameters as real ones, verified when the user does not exist so
/// that unknown users cost the same time as wrong passwords.
const DUMMY_HASH: &str = "$argon2id$v=19$m=7168,t=5,p=1$c29tZXNhbHRmb3JkdW1teQ$pWnqaGLbcPmHc9nFPbxuGUZ0XfzIRPjcQpFVn0bcIGs";

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password worker stopped")]
    Worker,
}

/// The argon2 blocks (1 KiB each) a hashing thread keeps between jobs: what Keycloak's
/// parameters need. A job that needed more (an imported hash with a larger `m`) gives the
/// rest back as soon as it is done.
const KEPT_BLOCKS: usize = 7168;

/// How a password compares with a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A wrong password, no stored hash, or one keywarden cannot read.
    Wrong,
    /// The right password, stored with keywarden's own argon2id parameters.
    Right,
    /// The right password, stored some other way (PBKDF2, or argon2 with other parameters):
    /// it should be re-hashed now, while the password is at hand.
    Outdated,
}

impl Verdict {
    pub fn is_right(self) -> bool {
        self != Verdict::Wrong
    }
}

/// A queued hash: runs on a hashing thread with that thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords on a fixed pool of dedicated threads.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: mpsc::Sender<Job>,
    /// The outdated hashes being re-hashed right now (see `rehash`).
    rehashing: Arc<Mutex<HashSet<String>>>,
}

impl PasswordHasher {
    /// A hasher with `threads` hashing threads (at least one).
    pub fn new(threads: usize) -> Self {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&jobs))
                .expect("spawn a password hashing thread");
        }
        PasswordHasher {
            queue,
            rehashing: Arc::default(),
        }
    }

    /// One hashing thread per available core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Runs `job` on a hashing thread. A job whose caller has gone away by the time a thread
    /// takes it (the client disconnected) is skipped.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Box::new(move |memory| {
                if !reply.is_closed() {
                    let _ = reply.send(job(memory));
                }
            }))
            .map_err(|_| PasswordError::Worker)?;
        answer.await.map_err(|_| PasswordError::Worker)
    }

    /// Hashes a password into a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        self.run(move |memory| hash_with_memory(password.expose_secret(), memory))
            .await?
    }

    /// Checks a password against a stored PHC string; with `None` (no such user, or no
    /// password) it verifies against a dummy hash and answers false.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> bool {
        self.check(password, stored).await.is_right()
    }

    /// Checks a password against a stored PHC string and says whether a right one is stored
    /// the current way; with `None` it verifies against a dummy hash and answers `Wrong`.
    pub async fn check(&self, password: SecretString, stored: Option<String>) -> Verdict {
        self.run(move |memory| match &stored {
            Some(phc) => check_with_memory(password.expose_secret(), phc, memory),
            None => {
                verify_with_memory(password.expose_secret(), DUMMY_HASH, memory);
                Verdict::Wrong
            }
        })
        .await
        .unwrap_or(Verdict::Wrong)
    }

    /// Hashes `password` anew to replace `outdated`, the stored hash it has just matched.
    /// `None` when a re-hash of that same hash is already under way, so that a burst of
    /// sign-ins with an imported hash costs one extra hash, not one each.
    pub async fn rehash(
        &self,
        password: SecretString,
        outdated: &str,
    ) -> Option<Result<String, PasswordError>> {
        let _claim = RehashClaim::take(&self.rehashing, outdated)?;
        Some(self.hash(password).await)
    }
}

/// A re-hash under way; dropping it (done, failed or cancelled) lets the next one start.
struct RehashClaim<'a> {
    set: &'a Mutex<HashSet<String>>,
    phc: String,
}

impl<'a> RehashClaim<'a> {
    fn take(set: &'a Mutex<HashSet<String>>, phc: &str) -> Option<Self> {
        let mut claimed = set.lock().unwrap_or_else(|e| e.into_inner());
        claimed.insert(phc.to_owned()).then(|| RehashClaim {
            set,
            phc: phc.to_owned(),
        })
    }
}

impl Drop for RehashClaim<'_> {
    fn drop(&mut self) {
        let mut claimed = self.set.lock().unwrap_or_else(|e| e.into_inner());
        claimed.remove(&self.phc);
    }
}

/// A hashing thread: takes jobs until every `PasswordHasher` handle is gone. A job that
/// panics answers its caller with `Worker` (its reply is dropped) and the thread goes on.
fn work(jobs: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let next = jobs
            .lock()
            .map_err(|_| ())
            .and_then(|q| q.recv().map_err(|_| ()));
        let Ok(job) = next else {
            return;
        };
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
        if done.is_err() {
            memory = Vec::new();
        }
        settle(&mut memory);
    }
}

/// Gives back the memory beyond what Keycloak's parameters need.
fn settle(memory: &mut Vec<Block>) {
    if memory.len() > KEPT_BLOCKS {
        memory.truncate(KEPT_BLOCKS);
        memory.shrink_to_fit();
    }
}

/// `verify_with_memory`, and whether a right password is stored the current way.
fn check_with_memory(password: &str, phc: &str, blocks: &mut Vec<Block>) -> Verdict {
    match verify_with_memory(password, phc, blocks) {
        false => Verdict::Wrong,
        true if is_current(phc) => Verdict::Right,
        true => Verdict::Outdated,
    }
}

/// Whether `phc` is an argon2id hash with exactly keywarden's (Keycloak's) parameters:
/// Keycloak's `policyCheck` compares the type, version, hash length, memory, parallelism
/// and iterations, and re-hashes on any difference.
pub fn is_current(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let current = keycloak_argon2();
    let current = current.params();
    hash.algorithm == Algorithm::Argon2id.ident()
        && hash.version == Some(Version::V0x13.into())
        && hash.hash.map(|h| h.len()) == current.output_len()
        && Params::try_from(&hash).is_ok_and(|p| {
            (p.m_cost(), p.t_cost(), p.p_cost())
                == (current.m_cost(), current.t_cost(), current.p_cost())
        })
}

/// Verifies any PHC string keywarden stores: PBKDF2 (imported from Keycloak) or argon2, in
/// constant time. Anything else, or beyond the caps on imported parameters, never verifies.
fn verify_with_memory(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    if phc.starts_with("$pbkdf2-") {
        return Pbkdf2Hash::parse(phc).is_some_and(|hash| hash.verify(password));
    }
    verify_argon2(password, phc, blocks)
}

/// Verifies an argon2 PHC string with the parameters it records, computing into `blocks`
/// (grown as needed; see `settle`). The comparison is constant-time.
fn verify_argon2(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) = (
        Algorithm::try_from(hash.algorithm),
        Params::try_from(&hash),
        hash.hash,
        hash.salt,
    ) else {
        return false;
    };
    if params.m_cost() > MAX_ARGON2_MEMORY_KIB
        || params.t_cost() > MAX_ARGON2_ITERATIONS
        || params.p_cost() > MAX_ARGON2_PARALLELISM
        || !argon2_work_allowed(params.m_cost(), params.t_cost())
    {
        return false;
    }
    let version = match hash.version {
        Some(v) => match Version::try_from(v) {
            Ok(version) => version,
            Err(_) => return false,
        },
        None => Version::default(),
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut blocks[..params.block_count()],
        )
        .is_ok()
        && crate::crypto::constant_time_eq(&out, expected.as_bytes())
}

/// Hashes with Keycloak's parameters, computing into `blocks` (grown as needed and kept for
/// the next call, so a hashing thread holds one block of memory however many it hashes).
fn hash_with_memory(password: &str, blocks: &mut Vec<Block>) -> Result<String, PasswordError> {
    let argon2 = keycloak_argon2();
    let params = argon2.params().clone();
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    let mut out = vec![0u8; params.output_len().unwrap_or(32)];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            &mut blocks[..params.block_count()],
        )
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    let output =
        argon2::password_hash::Output::new(&out).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e: argon2::password_hash::Error| PasswordError::Hash(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Hashes on the calling thread (for start-up and tests).
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    keycloak_argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Verifies on the calling thread any PHC string keywarden stores (see `verify_with_memory`).
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    verify_with_memory(password, phc, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_made_in_reused_memory_verify_and_use_keycloak_parameters() {
        let mut blocks = Vec::new();
        let first = hash_with_memory("s3cret", &mut blocks).unwrap();
        let second = hash_with_memory("other", &mut blocks).unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
            "{first}"
        );
        assert!(verify_blocking("s3cret", &first));
        assert!(verify_blocking("other", &second));
        assert!(!verify_blocking("s3cret", &second));
    }

    #[test]
    fn hashes_use_keycloak_parameters() {
        let phc = hash_blocking("s3cret").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{phc}");
        let hash = PasswordHash::new(&phc).unwrap();
        assert_eq!(hash.hash.unwrap().len(), 32);
        assert!(verify_blocking("s3cret", &phc));
        assert!(!verify_blocking("S3cret", &phc));
    }

    #[test]
    fn dummy_hash_has_the_same_cost_as_real_ones() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let real_phc = hash_blocking("x").unwrap();
        let real = PasswordHash::new(&real_phc).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.unwrap().len(), real.hash.unwrap().len());
    }

    #[test]
    fn reusable_memory_verifies_like_the_library() {
        let phc = hash_blocking("s3cret").unwrap();
        let mut blocks = Vec::new();
        assert!(verify_with_memory("s3cret", &phc, &mut blocks));
        assert!(!verify_with_memory("s3creT", &phc, &mut blocks));
        assert!(
            verify_with_memory("s3cret", &phc, &mut blocks),
            "the reused block gives the same answer"
        );
        assert!(!verify_with_memory("x", "not a phc string", &mut blocks));
    }

    #[test]
    fn garbage_hashes_never_verify() {
        assert!(!verify_blocking("x", "not a phc string"));
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_take_its_thread_down() {
        let hasher = PasswordHasher::new(1);
        let panicked = hasher.run(|_| -> bool { panic!("boom") }).await;
        assert!(matches!(panicked, Err(PasswordError::Worker)));
        let phc = hash_blocking("s3cret").unwrap();
        assert!(
            hasher.verify(SecretString::from("s3cret"), Some(phc)).await,
            "the one thread still verifies"
        );
    }

    /// Hashes of "correct horse" made outside keywarden: argon2 by the reference C library
    /// (libargon2's `argon2_hash`, via python3 ctypes), PBKDF2 by python3's
    /// `hashlib.pbkdf2_hmac` (salt "NaCl-and-pepper!", 1000 iterations).
    const FOREIGN: &[&str] = &[
        "$argon2d$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$lwOz6wWnJJGvwewjZaRSglnEU7t7d9JLaYkWoG1IrKs",
        "$argon2d$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$9clJDfcdhrmTBr/z7EG9828JoULJ3HYl",
        "$argon2d$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$5aAwcsw56WC2T3h6YqfUTvvG7fwPEwGExr8tFDEqCKs",
        "$argon2i$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$Z/f5HXchJUreVezozHfqmhnWE1tO5F47olNKb8N1VHE",
        "$argon2i$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$YtANdHDhg5jIPgRw2enXI+Crk7rGCWVv",
        "$argon2i$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$WwwcxvYaR4SKXXQySsjF50MUUPqpFVkl0b2qnvaqD+A",
        "$argon2id$v=19$m=64,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$5jdMIzWoFbzSOl6k3wai9uU3f8LD+HmGXQgo1uhHQPI",
        "$argon2id$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$r2hFkoCW56Pd6zj7nUgX3Ocw7b5U3yQm",
        "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$BxP5wGKguZvML2+Ihc++omtQYeIej3U7Kn2byr0Z9ls",
        "$pbkdf2-sha1$i=1000,l=20$TmFDbC1hbmQtcGVwcGVyIQ$VzQvAwwy17q2jqJYHkiwFb8pD2M",
        "$pbkdf2-sha256$i=1000,l=32$TmFDbC1hbmQtcGVwcGVyIQ$rXd1RimUMb5/A8bNR0wn8SN7+8tk6R4P6CAx8UkheB8",
        "$pbkdf2-sha256$i=1000,l=64$TmFDbC1hbmQtcGVwcGVyIQ$rXd1RimUMb5/A8bNR0wn8SN7+8tk6R4P6CAx8UkheB/Jm2VKkvjhqsBtJIfFAfWIpyxA8oMEvQJC+ol/Kuq39w",
        "$pbkdf2-sha512$i=1000,l=64$TmFDbC1hbmQtcGVwcGVyIQ$GjMPQXx3bEXczhMO0Wfd6f4JkcIGxic9XL0ZoHagHr6n/osog4qe6b3MfHgxC4eMB57R/SHKKbeh/7ltboj3nw",
    ];

    /// Keycloak 26's own argon2id parameters (libargon2, password "s3cret").
    const KEYCLOAK_DEFAULT: &str = "$argon2id$v=19$m=7168,t=5,p=1$a2V5Y2xvYWtzYWx0MTIzNA$614EzgXwTt54lAdijhV2KLAGDxrrLZvI2RMZtB2JzeI";

    #[test]
    fn every_stored_form_verifies_and_only_with_its_password() {
        let mut blocks = Vec::new();
        for phc in FOREIGN {
            assert_eq!(
                check_with_memory("correct horse", phc, &mut blocks),
                Verdict::Outdated,
                "{phc}"
            );
            assert_eq!(
                check_with_memory("correct horsE", phc, &mut blocks),
                Verdict::Wrong,
                "{phc}"
            );
            assert!(verify_blocking("correct horse", phc), "{phc}");
            assert!(!verify_blocking("correct hors", phc), "{phc}");
        }
    }

    #[test]
    fn only_keycloaks_current_argon2id_parameters_are_current() {
        let mut blocks = Vec::new();
        assert_eq!(
            check_with_memory("s3cret", KEYCLOAK_DEFAULT, &mut blocks),
            Verdict::Right
        );
        assert!(is_current(&hash_blocking("x").unwrap()));
        assert!(FOREIGN.iter().all(|phc| !is_current(phc)));
        let longer = "$argon2id$v=19$m=7168,t=5,p=1$a2V5Y2xvYWtzYWx0MTIzNA$614EzgXwTt54lAdijhV2KLAGDxrrLZvI2RMZtB2JzeI614EzgXwTt54lAdijhV2KLA";
        assert!(!is_current(longer), "a 48-byte hash is not Keycloak's 32");
        assert!(!is_current("not a phc string"));
    }

    #[test]
    fn tampered_or_costly_hashes_never_verify() {
        let mut blocks = Vec::new();
        let tampered = FOREIGN[10].replace("i=1000", "i=1001");
        assert!(!verify_with_memory("correct horse", &tampered, &mut blocks));
        let other_type = FOREIGN[6].replace("$argon2id$", "$argon2i$");
        assert!(!verify_with_memory(
            "correct horse",
            &other_type,
            &mut blocks
        ));
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$5jdMIzWoFbzSOl6k3wai9uU3f8LD+HmGXQgo1uhHQPI";
        assert!(!verify_with_memory("correct horse", huge, &mut blocks));
        assert!(blocks.len() < 4096 * 1024, "nothing was allocated for it");
        let slow = huge.replace("m=4194304,t=1", "m=262144,t=100");
        let started = std::time::Instant::now();
        assert!(!verify_with_memory("correct horse", &slow, &mut blocks));
        assert!(
            started.elapsed().as_secs() < 1,
            "too costly a hash is not computed"
        );
        let unknown = "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA";
        assert!(!verify_with_memory("correct horse", unknown, &mut blocks));
    }

    #[test]
    fn a_thread_gives_back_memory_beyond_keycloaks_parameters() {
        assert_eq!(keycloak_argon2().params().block_count(), KEPT_BLOCKS);
        let mut blocks = Vec::new();
        let big = "$argon2id$v=19$m=16384,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!verify_with_memory("x", big, &mut blocks));
        assert_eq!(blocks.len(), 16384, "the job had what it needed");
        settle(&mut blocks);
        assert_eq!(blocks.len(), KEPT_BLOCKS);
        assert!(blocks.capacity() <= KEPT_BLOCKS);
        let mut small = vec![Block::default(); 64];
        settle(&mut small);
        assert_eq!(small.len(), 64, "smaller memory is kept as it is");
    }

    #[tokio::test]
    async fn the_pool_checks_every_form_and_rehashes_once_at_a_time() {
        let hasher = PasswordHasher::new(1);
        let check = |phc: &str| hasher.check(SecretString::from("correct horse"), Some(phc.into()));
        assert_eq!(check(FOREIGN[11]).await, Verdict::Outdated);
        assert_eq!(
            hasher
                .check(SecretString::from("s3cret"), Some(KEYCLOAK_DEFAULT.into()))
                .await,
            Verdict::Right
        );
        assert_eq!(
            hasher.check(SecretString::from("x"), None).await,
            Verdict::Wrong
        );
        let claim = RehashClaim::take(&hasher.rehashing, FOREIGN[11]).unwrap();
        assert!(
            hasher
                .rehash(SecretString::from("correct horse"), FOREIGN[11])
                .await
                .is_none(),
            "one re-hash of a hash at a time"
        );
        drop(claim);
        let fresh = hasher
            .rehash(SecretString::from("correct horse"), FOREIGN[11])
            .await
            .unwrap()
            .unwrap();
        assert!(is_current(&fresh));
        assert!(verify_blocking("correct horse", &fresh));
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new(1);
        assert!(!hasher.verify(SecretString::from("x"), None).await);
    }
}
