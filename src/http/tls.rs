//! Native TLS with rustls (aws-lc-rs): the server certificate comes from PEM files and is served
//! from a slot that a renewal refills without a restart.
//!
//! [`watch`] reloads the files on SIGHUP and when either file changes (its inode, size or
//! modification time, looked at every [`POLL_EVERY`]). A reload that fails (a half-written
//! file, a key that does not match) keeps the certificate in use and logs a warning; the next
//! change of the files tries again.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use anyhow::{bail, Context};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::config::HttpsSettings;

/// How often the certificate and key files are looked at for a change.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The largest certificate or key file read (a long chain is a few kilobytes).
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// The certificate every new TLS connection gets, swappable while the server runs.
#[derive(Debug)]
pub struct CertificateSlot {
    files: HttpsSettings,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertificateSlot {
    /// Loads the certificate and key files; an error names the file at fault.
    pub fn load(files: &HttpsSettings) -> anyhow::Result<Arc<CertificateSlot>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let certified = certified_key(files, &provider)?;
        Ok(Arc::new(CertificateSlot {
            files: files.clone(),
            provider,
            current: RwLock::new(Arc::new(certified)),
        }))
    }

    /// Reads the files again and serves them from now on; on error the old certificate stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let certified = certified_key(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(certified);
        Ok(())
    }

    /// The certificate chain served now, the server's own certificate first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.current().cert.clone()
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesServerCert for CertificateSlot {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// A rustls server configuration (TLS 1.2 and 1.3, no client certificates) serving `slot`.
pub fn server_config(slot: Arc<CertificateSlot>) -> anyhow::Result<ServerConfig> {
    let config = ServerConfig::builder_with_provider(slot.provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(slot);
    Ok(config)
}

/// Reloads `slot` on SIGHUP and whenever its files change, for as long as the runtime runs.
pub fn watch(slot: Arc<CertificateSlot>) {
    tokio::spawn(async move {
        let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        {
            Ok(signal) => Some(signal),
            Err(err) => {
                tracing::warn!(error = %err, "no SIGHUP reload of the TLS certificate");
                None
            }
        };
        let mut seen = stamp(&slot.files);
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let cause = tokio::select! {
                Some(()) = async { hangup.as_mut()?.recv().await } => "SIGHUP",
                _ = tick.tick() => {
                    let now = stamp(&slot.files);
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    "file change"
                }
            };
            match slot.reload() {
                Ok(()) => tracing::info!(cause, "reloaded the TLS certificate"),
                Err(err) => tracing::warn!(
                    cause,
                    error = format!("{err:#}"),
                    "kept the TLS certificate in use: the new one cannot be loaded"
                ),
            }
        }
    });
}

/// What tells that a file changed: inode, size and modification time (`None` when unreadable).
type Stamp = Option<(u64, u64, i64, i64)>;

fn stamp(files: &HttpsSettings) -> [Stamp; 2] {
    let of = |path: &Path| {
        let meta = std::fs::metadata(path).ok()?;
        Some((meta.ino(), meta.len(), meta.mtime(), meta.mtime_nsec()))
    };
    [of(&files.certificate_file), of(&files.key_file)]
}

/// Parses the chain and key and checks that they belong together.
fn certified_key(files: &HttpsSettings, provider: &CryptoProvider) -> anyhow::Result<CertifiedKey> {
    let cert_path = &files.certificate_file;
    let key_path = &files.key_file;
    let chain = CertificateDer::pem_slice_iter(&read_pem(cert_path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| anyhow::anyhow!("{}: invalid PEM: {err}", cert_path.display()))?;
    if chain.is_empty() {
        bail!("{}: no certificate in the file", cert_path.display());
    }
    let key = PrivateKeyDer::from_pem_slice(&read_pem(key_path)?).map_err(|err| {
        anyhow::anyhow!(
            "{}: no PKCS#8, PKCS#1 or SEC1 private key: {err}",
            key_path.display()
        )
    })?;
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|err| anyhow::anyhow!("{}: unusable private key: {err}", key_path.display()))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|err| {
        anyhow::anyhow!(
            "{}: the key does not belong to the certificate in {}: {err}",
            key_path.display(),
            cert_path.display()
        )
    })?;
    Ok(certified)
}

/// Reads a PEM file of at most [`MAX_PEM_BYTES`].
fn read_pem(path: &Path) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_PEM_BYTES {
        bail!("{}: larger than {MAX_PEM_BYTES} bytes", path.display());
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> HttpsSettings {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let files = HttpsSettings {
            port: 0,
            certificate_file: dir.join("tls.crt"),
            key_file: dir.join("tls.key"),
        };
        std::fs::write(&files.certificate_file, cert.pem()).unwrap();
        std::fs::write(&files.key_file, key.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn a_failed_reload_keeps_the_certificate_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_pair(dir.path(), "a.test");
        let slot = CertificateSlot::load(&files).unwrap();
        let before = slot.chain();
        std::fs::write(&files.certificate_file, "-----BEGIN CERTIFICATE-----\nAAA").unwrap();
        let err = slot.reload().unwrap_err();
        assert!(format!("{err:#}").contains("tls.crt"), "{err:#}");
        assert_eq!(slot.chain(), before);

        write_pair(dir.path(), "b.test");
        slot.reload().unwrap();
        assert_ne!(slot.chain(), before);
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_pair(dir.path(), "a.test");
        let other = tempfile::tempdir().unwrap();
        let stranger = write_pair(other.path(), "b.test");
        let mixed = HttpsSettings {
            key_file: stranger.key_file,
            ..files
        };
        let err = CertificateSlot::load(&mixed).unwrap_err();
        assert!(format!("{err:#}").contains("does not belong"), "{err:#}");
    }

    #[test]
    fn a_file_without_a_key_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_pair(dir.path(), "a.test");
        std::fs::write(&files.key_file, "not pem").unwrap();
        let err = CertificateSlot::load(&files).unwrap_err();
        assert!(format!("{err:#}").contains("tls.key"), "{err:#}");
    }
}
