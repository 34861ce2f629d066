//! The installation's secrets that must not live in the database they protect: the pepper API-key
//! hashes are keyed with, and the key the secrets kept at rest (SIP passwords, webhook signing
//! secrets) are encrypted with. Each comes from the
//! environment or a file (`make run` makes both once under `data/`); without them the server
//! falls back to values kept in the database, and says so at start.

use crate::error::AppError;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// What the operator configured (already read from the environment or files).
#[derive(Debug, Clone, Default)]
pub struct SecretSettings {
    /// `KROS_API_KEY_PEPPER` (or the file `KROS_API_KEY_PEPPER_FILE` names).
    pub api_key_pepper: Option<String>,
    /// `KROS_SIP_ENCRYPTION_KEY` (or `..._FILE`): 32 bytes, base64.
    pub sip_encryption_key: Option<String>,
    /// `KROS_SIP_ENCRYPTION_OLD_KEYS`: keys rotated out, comma-separated; passwords sealed with
    /// them are opened and sealed again with the current key at start.
    pub sip_old_keys: Vec<String>,
}

/// A secret from an environment variable, or from the file `<VAR>_FILE` names.
pub fn from_env_or_file(var: &str) -> Result<Option<String>, AppError> {
    if let Some(value) = std::env::var(var).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        return Ok(Some(value));
    }
    let file_var = format!("{var}_FILE");
    match std::env::var(&file_var).ok().filter(|p| !p.trim().is_empty()) {
        Some(path) => {
            let text = std::fs::read_to_string(path.trim())
                .map_err(|e| AppError::config(format!("{file_var}: cannot read {path}: {e}")))?;
            Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
        }
        None => Ok(None),
    }
}

/// Seals and opens the secrets kept at rest (SIP passwords, webhook signing secrets) with
/// AES-256-GCM (its key is still configured as `KROS_SIP_ENCRYPTION_KEY`, the name it first had). A sealed value is
/// `aes256gcm:<key id>:<base64 of nonce and ciphertext>`; the key id (the first 8 hex digits of
/// the key's SHA-256) says which key opens it, so keys can be rotated.
pub struct SecretCipher {
    current: (String, Aes256Gcm),
    old: Vec<(String, Aes256Gcm)>,
}

const SEALED_PREFIX: &str = "aes256gcm:";

fn cipher_of(encoded: &str, what: &str) -> Result<(String, Aes256Gcm), AppError> {
    let bytes = BASE64.decode(encoded.trim()).ok().filter(|b| b.len() == 32).ok_or_else(|| {
        AppError::config(format!("{what} must be 32 bytes in base64 (`head -c 32 /dev/urandom | base64`)"))
    })?;
    let id = hex::encode(&Sha256::digest(&bytes)[..4]);
    Ok((id, Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes))))
}

impl SecretCipher {
    pub fn new(current: &str, old: &[String]) -> Result<SecretCipher, AppError> {
        let current = cipher_of(current, "KROS_SIP_ENCRYPTION_KEY")?;
        let old = old.iter().map(|k| cipher_of(k, "KROS_SIP_ENCRYPTION_OLD_KEYS")).collect::<Result<_, _>>()?;
        Ok(SecretCipher { current, old })
    }

    /// A fresh random key, base64 (for the database fallback).
    pub fn generate_key() -> String {
        BASE64.encode(Aes256Gcm::generate_key(OsRng))
    }

    pub fn seal(&self, password: &str) -> Result<String, AppError> {
        let (id, cipher) = &self.current;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed =
            cipher.encrypt(&nonce, password.as_bytes()).map_err(|_| AppError::internal("cannot seal a secret"))?;
        Ok(format!("{SEALED_PREFIX}{id}:{}", BASE64.encode([nonce.as_slice(), &sealed].concat())))
    }

    /// The password in a stored value (a value from before encryption is returned as it is).
    pub fn open(&self, stored: &str) -> Result<String, AppError> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else { return Ok(stored.to_string()) };
        let unreadable = |why: &str| AppError::internal(format!("cannot open a sealed secret: {why}"));
        let (id, data) = rest.split_once(':').ok_or_else(|| unreadable("malformed"))?;
        let cipher =
            std::iter::once(&self.current).chain(&self.old).find(|(known, _)| known == id).map(|(_, c)| c).ok_or_else(
                || unreadable(&format!("no key with id {id} (is KROS_SIP_ENCRYPTION_OLD_KEYS missing one?)")),
            )?;
        let bytes = BASE64.decode(data).map_err(|_| unreadable("malformed"))?;
        if bytes.len() < 12 {
            return Err(unreadable("malformed"));
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain =
            cipher.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| unreadable("wrong key or damaged value"))?;
        String::from_utf8(plain).map_err(|_| unreadable("not text"))
    }

    /// How every value sealed with the current key begins: anything else (clear text, an old
    /// key) is to be sealed again.
    pub fn current_prefix(&self) -> String {
        format!("{SEALED_PREFIX}{}:", self.current.0)
    }
}
