//! The Supabase project's signing keys (its JWKS), fetched over HTTP and cached.
//!
//! Keys are kept for a TTL; a token naming a `kid` not in the cache makes the cache fetch again,
//! but never more than once per refetch interval, so rotation works without a restart and a
//! stream of made-up kids cannot make the server hammer the project. When the JWKS cannot be
//! fetched, the keys already cached keep working.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One verification key and the only algorithm it may verify.
pub struct SigningKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The JWKS was fetched and has no usable key with this id.
    #[error("no signing key with this kid")]
    UnknownKid,
    /// The key is not cached and the JWKS cannot be fetched now.
    #[error("the signing keys cannot be fetched: {0}")]
    Unreachable(String),
}

pub struct Jwks {
    url: String,
    http: reqwest::Client,
    ttl: Duration,
    refetch_interval: Duration,
    cached: RwLock<Cached>,
    /// When the last fetch started and how it ended; the lock makes fetches one at a time.
    last_fetch: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

#[derive(Default)]
struct Cached {
    keys: HashMap<String, Arc<SigningKey>>,
    fetched_at: Option<Instant>,
}

impl Jwks {
    pub fn new(url: String, ttl: Duration, refetch_interval: Duration) -> Jwks {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Jwks { url, http, ttl, refetch_interval, cached: RwLock::default(), last_fetch: Default::default() }
    }

    /// The key named `kid`: from the cache while it is fresh, else after a (throttled) fetch.
    pub async fn key(&self, kid: &str) -> Result<Arc<SigningKey>, KeyError> {
        let (cached, fresh) = self.lookup(kid);
        if let (Some(key), true) = (&cached, fresh) {
            return Ok(key.clone());
        }
        match self.refetch().await {
            Ok(()) => self.lookup(kid).0.ok_or(KeyError::UnknownKid),
            // Unreachable: a key we had keeps working until the project answers again.
            Err(why) => cached.ok_or(KeyError::Unreachable(why)),
        }
    }

    /// The cached key, and whether the cache is within its TTL.
    fn lookup(&self, kid: &str) -> (Option<Arc<SigningKey>>, bool) {
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        let fresh = cached.fetched_at.is_some_and(|at| at.elapsed() < self.ttl);
        (cached.keys.get(kid).cloned(), fresh)
    }

    /// Fetches the JWKS unless a fetch started less than the refetch interval ago (then that
    /// fetch's outcome stands).
    async fn refetch(&self) -> Result<(), String> {
        let mut last = self.last_fetch.lock().await;
        if let Some((at, outcome)) = last.as_ref() {
            if at.elapsed() < self.refetch_interval {
                return outcome.clone();
            }
        }
        let started = Instant::now();
        let outcome = self.fetch().await.map(|keys| {
            let mut cached = self.cached.write().unwrap_or_else(|e| e.into_inner());
            *cached = Cached { keys, fetched_at: Some(Instant::now()) };
        });
        if let Err(why) = &outcome {
            tracing::warn!(url = %self.url, "cannot fetch the Supabase JWKS: {why}");
        }
        *last = Some((started, outcome.clone()));
        outcome
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<SigningKey>>, String> {
        let response = self.http.get(&self.url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("{} answered {}", self.url, response.status()));
        }
        let set: KeySet = response.json().await.map_err(|e| format!("not a JWKS: {e}"))?;
        Ok(set.keys.into_iter().filter_map(usable_key).collect())
    }
}

/// A JWKS read key by key, so that one key of a kind we do not know does not hide the others.
#[derive(serde::Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// A signature key we can verify with: ES256 (P-256) or RS256, with a `kid`.
fn usable_key(raw: serde_json::Value) -> Option<(String, Arc<SigningKey>)> {
    let jwk: Jwk = serde_json::from_value(raw).ok()?;
    let kid = jwk.common.key_id.clone()?;
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        _ => return None,
    };
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some((kid, Arc::new(SigningKey { algorithm, key })))
}
