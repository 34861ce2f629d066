//! A loopback stand-in for a Supabase project's signing keys: it serves
//! `GET /auth/v1/.well-known/jwks.json` exactly as Supabase Auth documents it (`{"keys": [JWK,
//! ...]}`, each key with `kid`, `alg`, `use: sig`), counts the fetches, can rotate its keys and
//! can go down (503). There is no Supabase project reachable from the test machine; this is the
//! one request the server makes to verify tokens.
//!
//! The keys are fixed test keys (`tests/fixtures/jwt/`, made with openssl; the JWKs with Node's
//! `crypto.createPublicKey(...).export({format: "jwk"})`), so tests can sign tokens as the
//! project would.
#![allow(dead_code)]

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A signing key of the project.
#[derive(Clone)]
pub struct ProjectKey {
    pub kid: &'static str,
    pub algorithm: Algorithm,
    private_pem: &'static str,
    pub jwk: &'static str,
}

pub const ES256_A: ProjectKey = ProjectKey {
    kid: "kid-es256-a",
    algorithm: Algorithm::ES256,
    private_pem: include_str!("../fixtures/jwt/es256-a.pem"),
    jwk: include_str!("../fixtures/jwt/es256-a.jwk.json"),
};
pub const ES256_B: ProjectKey = ProjectKey {
    kid: "kid-es256-b",
    algorithm: Algorithm::ES256,
    private_pem: include_str!("../fixtures/jwt/es256-b.pem"),
    jwk: include_str!("../fixtures/jwt/es256-b.jwk.json"),
};
pub const RS256: ProjectKey = ProjectKey {
    kid: "kid-rs256",
    algorithm: Algorithm::RS256,
    private_pem: include_str!("../fixtures/jwt/rs256.pem"),
    jwk: include_str!("../fixtures/jwt/rs256.jwk.json"),
};

impl ProjectKey {
    fn encoding_key(&self) -> EncodingKey {
        match self.algorithm {
            Algorithm::ES256 => EncodingKey::from_ec_pem(self.private_pem.as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(self.private_pem.as_bytes()).unwrap(),
        }
    }

    /// A token signed by this key, naming it in `kid`, as the project issues them.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, Some(self.kid))
    }

    /// A token signed by this key but naming `kid` (or none).
    pub fn sign_as(&self, claims: &Value, kid: Option<&str>) -> String {
        let header = Header { kid: kid.map(str::to_string), ..Header::new(self.algorithm) };
        jsonwebtoken::encode(&header, claims, &self.encoding_key()).unwrap()
    }

    pub fn public_jwk(&self) -> Value {
        serde_json::from_str(self.jwk).unwrap()
    }
}

#[derive(Default)]
struct State {
    keys: Mutex<Vec<Value>>,
    fetches: AtomicUsize,
    down: AtomicBool,
}

/// The stand-in, serving on 127.0.0.1 until the test ends.
pub struct StandInProject {
    /// What `SUPABASE_URL` would be (`http://127.0.0.1:PORT`).
    pub url: String,
    state: Arc<State>,
}

impl StandInProject {
    pub async fn start(keys: &[ProjectKey]) -> StandInProject {
        let state = Arc::new(State::default());
        let project = StandInProject { url: String::new(), state: state.clone() };
        project.serve_keys(keys);
        let app = axum::Router::new().route(
            "/auth/v1/.well-known/jwks.json",
            axum::routing::get(move || {
                let state = state.clone();
                async move {
                    state.fetches.fetch_add(1, Ordering::SeqCst);
                    if state.down.load(Ordering::SeqCst) {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"message": "down"})));
                    }
                    let keys = state.keys.lock().unwrap().clone();
                    (axum::http::StatusCode::OK, axum::Json(json!({ "keys": keys })))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandInProject { url, ..project }
    }

    /// From now on the JWKS holds exactly these keys (a rotation).
    pub fn serve_keys(&self, keys: &[ProjectKey]) {
        *self.state.keys.lock().unwrap() = keys.iter().map(ProjectKey::public_jwk).collect();
    }

    /// How many times the JWKS was asked for.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Down: the JWKS answers 503.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// The `iss` of the project's tokens.
    pub fn issuer(&self) -> String {
        format!("{}/auth/v1", self.url)
    }
}
