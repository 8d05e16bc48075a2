//! Raw crypto ceilings for the token benchmark: argon2id verifies per second and RS256
//! signatures per second, one busy thread per core (the server's argon2 pool and actix worker
//! count are both `available_parallelism`), and the CPU time each operation takes. Prints
//! `key=value` lines for bench/bench.py.
//!
//! Usage: raw_rates argon2|rs256 [SECONDS]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use keywarden::crypto::{keys, passwords};

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

/// RS256 signatures over a signing input shaped like a docker token (kid + x5c header).
fn rs256(threads: usize, duration: Duration) -> (f64, f64) {
    let key = keys::generate_realm_key("bench").expect("RSA key");
    let pair = RsaKeyPair::from_pkcs8(&key.private_key_der).expect("PKCS#8 key");
    let header = format!(
        r#"{{"typ":"JWT","alg":"RS256","kid":"{}","x5c":["{}"]}}"#,
        key.kid,
        STANDARD.encode(&key.certificate_der)
    );
    let claims = r#"{"iss":"http://127.0.0.1/realms/bench","sub":"dev","aud":"registry","exp":1,"nbf":1,"iat":1,"jti":"00000000-0000-0000-0000-000000000000","access":[{"type":"repository","name":"dev/app","actions":["pull"]}]}"#;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
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

fn main() {
    let mut args = std::env::args().skip(1);
    let measure = match args.next().as_deref() {
        Some("argon2") => argon2,
        Some("rs256") => rs256,
        _ => {
            eprintln!("usage: raw_rates argon2|rs256 [SECONDS]");
            std::process::exit(2);
        }
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
