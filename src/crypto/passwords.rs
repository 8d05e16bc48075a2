//! Password hashing with Keycloak's argon2id parameters on a fixed set of dedicated threads,
//! one per core, fed from one queue: a burst of logins can neither exhaust memory nor starve
//! the async runtime, and a thread starts the next queued hash the moment it finishes one.
//! Each thread keeps its own argon2 memory, so a verify allocates nothing large.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

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

/// A queued hash: runs on a hashing thread with that thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords on a fixed pool of dedicated threads.
#[derive(Clone)]
pub struct PasswordHasher {
    queue: mpsc::Sender<Job>,
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
        PasswordHasher { queue }
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
        self.run(move |memory| match &stored {
            Some(phc) => verify_with_memory(password.expose_secret(), phc, memory),
            None => {
                verify_with_memory(password.expose_secret(), DUMMY_HASH, memory);
                false
            }
        })
        .await
        .unwrap_or(false)
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
    }
}

/// Verifies with the parameters recorded in the PHC string, computing into `blocks` (grown
/// as needed and kept for the next call). The comparison is constant-time.
fn verify_with_memory(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
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
    let version = hash
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
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

/// Verifies on the calling thread, with the parameters recorded in the PHC string.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
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

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new(1);
        assert!(!hasher.verify(SecretString::from("x"), None).await);
    }
}
