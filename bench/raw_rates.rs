//! Raw crypto ceilings for the token benchmark: argon2id verifies per second, RS256 and ES256
//! signatures per second, one busy thread per core (the server's argon2 pool and actix worker
//! count are both `available_parallelism`), and the CPU time each operation takes. Prints
//! `key=value` lines for bench/bench.py.
//!
//! `raw_rates hash PASSWORD` prints one argon2id hash made the server's way, as the PHC string
//! and as Keycloak's `secretData`/`credentialData` (for realm files with many users).
//!
//! Usage: raw_rates argon2|rs256|es256 [SECONDS] | raw_rates hash PASSWORD

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keywarden::crypto::{keycloak_credential, keys, passwords};

/// CPU time of the calling thread so far, in nanoseconds (0 when the kernel does not say).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `op` on `threads` threads for `duration`; returns operations per second (wall clock)
/// and CPU milliseconds per operation.
fn rate(threads: usize, duration: Duration, op: impl Fn() + Sync) -> (f64, f64) {
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let (ops, cpu_ns) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let cpu_start = thread_cpu_ns();
                    let mut done = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        op();
                        done += 1;
                    }
                    (done, thread_cpu_ns() - cpu_start)
                })
            })
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0u64, 0u64), |(a, b), (c, d)| (a + c, b + d))
    });
    let per_second = ops as f64 / start.elapsed().as_secs_f64();
    (per_second, cpu_ns as f64 / 1e6 / ops.max(1) as f64)
}

/// Argon2id verifies of a hash made the way the server makes them, with the server's call.
fn argon2(threads: usize, duration: Duration) -> (f64, f64) {
    let phc = passwords::hash_blocking("bench-password").expect("argon2 hash");
    assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{phc}");
    assert!(passwords::verify_blocking("bench-password", &phc));
    rate(threads, duration, || {
        assert!(passwords::verify_blocking("bench-password", &phc));
    })
}

/// A JWS signing input shaped like a docker token (kid + x5c header) for `alg`.
fn signing_input(alg: &str, kid: &str, certificate_der: &[u8]) -> String {
    let header = format!(
        r#"{{"typ":"JWT","alg":"{alg}","kid":"{kid}","x5c":["{}"]}}"#,
        STANDARD.encode(certificate_der)
    );
    let claims = r#"{"iss":"http://127.0.0.1/realms/bench","sub":"dev","aud":"registry","exp":1,"nbf":1,"iat":1,"jti":"00000000-0000-0000-0000-000000000000","access":[{"type":"repository","name":"dev/app","actions":["pull"]}]}"#;
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

/// RS256 signatures (RSA-2048, the server's realm key).
fn rs256(threads: usize, duration: Duration) -> (f64, f64) {
    let key = keys::generate_realm_key("bench").expect("RSA key");
    let pair = RsaKeyPair::from_pkcs8(&key.private_key_der).expect("PKCS#8 key");
    let input = signing_input("RS256", &key.kid, &key.certificate_der);
    rate(threads, duration, || {
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .expect("RS256 signature");
    })
}

/// ES256 signatures (P-256, fixed-length r||s as JWS wants), over an input whose x5c is about
/// as long as a P-256 certificate.
fn es256(threads: usize, duration: Duration) -> (f64, f64) {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("P-256 key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .expect("PKCS#8 key");
    let input = signing_input("ES256", "bench-ec", &[0x30; 400]);
    rate(threads, duration, || {
        let signature = pair.sign(&rng, input.as_bytes()).expect("ES256 signature");
        assert_eq!(signature.as_ref().len(), 64);
    })
}

/// Prints one hash of `password` as the server makes it, in PHC and in Keycloak's form.
fn print_hash(password: &str) {
    let phc = passwords::hash_blocking(password).expect("argon2 hash");
    let keycloak = keycloak_credential::keycloak_from_phc(&phc).expect("Keycloak form");
    println!("phc={phc}");
    println!("secret_data={}", keycloak.secret_data);
    println!("credential_data={}", keycloak.credential_data);
}

fn usage() -> ! {
    eprintln!("usage: raw_rates argon2|rs256|es256 [SECONDS] | raw_rates hash PASSWORD");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let measure = match args.next().as_deref() {
        Some("argon2") => argon2,
        Some("rs256") => rs256,
        Some("es256") => es256,
        Some("hash") => return print_hash(&args.next().unwrap_or_else(|| usage())),
        _ => usage(),
    };
    let seconds: f64 = args
        .next()
        .map(|s| s.parse().expect("SECONDS must be a number"))
        .unwrap_or(4.0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (per_second, cpu_ms) = measure(threads, Duration::from_secs_f64(seconds));
    println!("threads={threads}");
    println!("per_s={per_second:.1}");
    println!("cpu_ms_per_op={cpu_ms:.3}");
}
