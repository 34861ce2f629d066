//! Webhook delivery across real `kros-numbers serve` processes: a process killed with SIGKILL in
//! the middle of a delivery leaves it due, and the restarted process delivers it; two processes
//! on one database send each attempt once. On SQLite (a file both processes open), and on
//! PostgreSQL when `KROS_TEST_POSTGRES_URL` names a server (as `make test` does).

#[path = "support/pg.rs"]
mod pg;
#[path = "support/procs.rs"]
mod procs;
#[path = "support/webhook_receiver.rs"]
mod webhook_receiver;

use procs::Server;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use webhook_receiver::Receiver;

/// A fresh database (PostgreSQL if configured, else a SQLite file), migrated, with an
/// organization, a test-mode key and inventory.
struct Setup {
    database_url: String,
    dir: tempfile::TempDir,
    key: String,
    client: reqwest::Client,
    _postgres: Option<(String, String)>,
}

/// Short timeouts and retries, loopback receivers.
const ENV: [(&str, &str); 3] = [
    ("KROS_WEBHOOK_ALLOW_PRIVATE_URLS", "true"),
    ("KROS_WEBHOOK_TIMEOUT_SECS", "1"),
    ("KROS_WEBHOOK_RETRY_SCHEDULE", "200ms,200ms,200ms"),
];

impl Setup {
    async fn new(numbers: u32) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (database_url, postgres) = match pg::server_url() {
            Some(server) => {
                let (name, url) = pg::create_database(&server, "kros_w").await;
                (url, Some((server, name)))
            }
            None => (format!("sqlite://{}/kros.db", dir.path().display()), None),
        };
        procs::cli(&database_url, &["migrate"]);
        let (_org, key) = procs::org_with_key(&database_url, "Hooked");
        procs::import_inventory(&database_url, dir.path(), 100, numbers);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Setup { database_url, dir, key, client, _postgres: postgres }
    }

    fn serve(&self, name: &str) -> Server {
        let mut server = Server::start(&self.database_url, self.dir.path(), name, &ENV);
        server.wait_ready();
        server
    }

    async fn call(&self, server: &Server, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, server.url(path)).bearer_auth(&self.key);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
    }

    async fn subscribe(&self, server: &Server, receiver: &Receiver) -> (String, String) {
        let endpoint =
            self.call(server, reqwest::Method::POST, "/v1/webhook-endpoints", Some(json!({"url": receiver.url}))).await;
        (endpoint["id"].as_str().unwrap().to_string(), endpoint["secret"].as_str().unwrap().to_string())
    }

    /// Buys `count` numbers, taking turns between the servers; returns their ids.
    async fn buy(&self, servers: &[&Server], count: usize) -> Vec<String> {
        let page = self
            .call(servers[0], reqwest::Method::GET, "/v1/phone-numbers?action=available&country=US&limit=100", None)
            .await;
        let mut bought = Vec::new();
        for (i, number) in page["data"].as_array().unwrap().iter().take(count).enumerate() {
            let body = json!({"inventory_id": number["id"]});
            let n = self.call(servers[i % servers.len()], reqwest::Method::POST, "/v1/phone-numbers", Some(body)).await;
            bought.push(n["id"].as_str().unwrap().to_string());
        }
        bought
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some((server, name)) = self._postgres.take() {
            pg::drop_database_blocking(&server, &name);
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_delivery_delivers_the_event_after_restart() {
    let setup = Setup::new(5).await;
    let receiver = Receiver::start().await;
    let mut first = setup.serve("first");
    let (endpoint_id, secret) = setup.subscribe(&first, &receiver).await;
    // The receiver holds the first request: the process dies while the attempt is in flight.
    receiver.answer_late(200, Duration::from_secs(30));
    setup.buy(&[&first], 1).await;
    let held = receiver.wait_for(1, Duration::from_secs(15)).await.remove(0);
    kill_9(&mut first);

    let restarted = setup.serve("restarted");
    let again = receiver.wait_for(2, Duration::from_secs(30)).await.remove(1);
    assert_eq!(again.webhook_id(), held.webhook_id(), "the same event, the same webhook-id");
    again.verify(&secret).expect("signed");
    // The attempt is recorded once the receiver's answer is read: wait for it, a moment at most.
    let deliveries = format!("/v1/webhook-endpoints/{endpoint_id}/deliveries");
    let mut attempts = setup.call(&restarted, reqwest::Method::GET, &deliveries, None).await;
    for _ in 0..50 {
        if attempts["total"] != 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        attempts = setup.call(&restarted, reqwest::Method::GET, &deliveries, None).await;
    }
    assert_eq!(attempts["total"], 1, "the killed attempt left no record; the restarted one did");
    assert_eq!(attempts["data"][0]["succeeded"], true);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(receiver.received().len(), 2, "delivered, so not sent again");
}

#[tokio::test]
async fn two_processes_send_each_attempt_once_and_deliver_every_event() {
    let setup = Setup::new(30).await;
    let receiver = Receiver::start().await;
    let a = setup.serve("a");
    let b = setup.serve("b");
    let (endpoint_id, secret) = setup.subscribe(&a, &receiver).await;
    // The first ten attempts fail: they are retried, by whichever process claims them.
    receiver.answer(&[500; 10]);
    let bought = setup.buy(&[&a, &b], 30).await;
    assert_eq!(bought.len(), 30);
    let received = receiver.wait_for(40, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = if receiver.received().len() > received.len() { receiver.received() } else { received };
    assert_eq!(received.len(), 40, "30 events, 10 of them retried once: no attempt sent twice");
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for r in &received {
        r.verify(&secret).expect("signed");
        *per_event.entry(r.webhook_id()).or_default() += 1;
    }
    assert_eq!(per_event.len(), 30, "every event delivered");
    assert!(per_event.values().all(|n| (1..=4).contains(n)), "at most the schedule's attempts: {per_event:?}");
    let path = format!("/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=100");
    let attempts = setup.call(&b, reqwest::Method::GET, &path, None).await;
    assert_eq!(attempts["total"], 40, "one record per attempt");
    let succeeded = attempts["data"].as_array().unwrap().iter().filter(|a| a["succeeded"] == true).count();
    assert_eq!(succeeded, 30);
}

/// SIGKILL: no shutdown, no cleanup, whatever it was doing.
fn kill_9(server: &mut Server) {
    let status = std::process::Command::new("kill").args(["-KILL", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if !server.is_running() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("still running after SIGKILL");
}
