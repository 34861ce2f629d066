//! A real webhook receiver on loopback: records every request it gets (headers and body) and
//! answers each with the next status of its script (200 once the script is used up). Tests
//! verify what it received with the Standard Webhooks library (`standardwebhooks`), as a
//! customer's receiver would.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn webhook_id(&self) -> String {
        self.header("webhook-id")
    }

    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Verifies the signature as the specification's library does (timestamp tolerance too).
    pub fn verify(&self, secret: &str) -> Result<(), standardwebhooks::WebhookError> {
        standardwebhooks::Webhook::new(secret)?.verify(&self.body, &self.headers)
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    script: VecDeque<(u16, Duration)>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve_on(listener).await
    }

    /// Listens on `listener` (a port chosen beforehand, for a receiver that starts late).
    pub async fn serve_on(listener: tokio::net::TcpListener) -> Receiver {
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().route("/hooks", axum::routing::post(receive)).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Receiver { url, inner }
    }

    /// The next requests are answered with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().script.extend(statuses.iter().map(|s| (*s, Duration::ZERO)));
    }

    /// The next request is answered after `delay`.
    pub fn answer_late(&self, status: u16, delay: Duration) {
        self.inner.lock().unwrap().script.push_back((status, delay));
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits until at least `count` requests came in (at most `within`); returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(Instant::now() < deadline, "the receiver got {} of {count} requests in {within:?}", received.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let (status, delay) = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received { headers, body });
        inner.script.pop_front().unwrap_or((200, Duration::ZERO))
    };
    tokio::time::sleep(delay).await;
    (StatusCode::from_u16(status).unwrap(), if status < 300 { "thanks" } else { "try again later" })
}
