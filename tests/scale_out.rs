//! Scale-out on PostgreSQL: two real `kros-numbers serve` processes on one database, raced
//! against each other. A number is sold once, whatever process the buyers reach; releases and
//! re-purchases keep one owner at a time; one Idempotency-Key buys once across processes.
//!
//! Needs `KROS_TEST_POSTGRES_URL` (a PostgreSQL server URL, see `scripts/test-postgres.sh`);
//! without it each test prints why it is skipped and passes. `make test` always sets it.

#[path = "support/pg.rs"]
mod pg;
#[path = "support/procs.rs"]
mod procs;

use futures::future::{join_all, BoxFuture, FutureExt};
use procs::{check_invariants, Server};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// A fresh database on the test server and two `serve` processes on it, started at the same
/// moment (so they also race on the migrations, which a database lock serializes).
struct TwoProcesses {
    servers: Vec<Server>,
    database_url: String,
    db: sqlx::PgPool,
    dir: tempfile::TempDir,
    client: reqwest::Client,
    server_url: String,
    database: String,
}

impl TwoProcesses {
    async fn start(server_url: String) -> TwoProcesses {
        let dir = tempfile::tempdir().unwrap();
        let (database, database_url) = pg::create_database(&server_url, "kros_s").await;
        // Correctness, not latency, is under test here: a generous acquire timeout keeps a slow
        // CI machine from turning a queue for connections into 503s.
        let env = [("KROS_DB_MAX_CONNECTIONS", "8"), ("KROS_DB_ACQUIRE_TIMEOUT_MS", "30000")];
        let mut servers: Vec<Server> =
            ["a", "b"].iter().map(|name| Server::start(&database_url, dir.path(), name, &env)).collect();
        for server in &mut servers {
            server.wait_ready();
        }
        let db = procs::pg_pool(&database_url).await;
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(60)).pool_max_idle_per_host(64).build().unwrap();
        TwoProcesses { servers, database_url, db, dir, client, server_url, database }
    }

    fn server(&self, i: usize) -> &Server {
        &self.servers[i % self.servers.len()]
    }

    /// Organizations named `{prefix} 0..count`, each with a test-mode key: (organization, key).
    fn organizations(&self, prefix: &str, count: usize) -> Vec<(String, String)> {
        (0..count).map(|i| procs::org_with_key(&self.database_url, &format!("{prefix} {i}"))).collect()
    }

    /// Imports `count` test-mode numbers (see `procs::import_inventory`) and returns their
    /// inventory ids, as `key` sees them for sale.
    async fn stock(&self, key: &str, first: u32, count: u32) -> Vec<String> {
        procs::import_inventory(&self.database_url, self.dir.path(), first, count);
        let inventory = self.available(key).await;
        assert_eq!(inventory.len(), count as usize);
        inventory
    }

    /// The test-mode inventory ids for sale, by E.164.
    async fn available(&self, key: &str) -> Vec<String> {
        let res = self
            .client
            .get(self.server(0).url("/v1/phone-numbers?action=available&country=US&limit=100"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["data"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
    }

    fn purchase(
        &self,
        server: usize,
        key: &str,
        inventory_id: &str,
        idempotency_key: Option<&str>,
    ) -> BoxFuture<'static, Outcome> {
        let mut req = self
            .client
            .post(self.server(server).url("/v1/phone-numbers"))
            .bearer_auth(key)
            .json(&json!({ "inventory_id": inventory_id }));
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        send(req, Kind::Purchase, inventory_id.to_string()).boxed()
    }

    fn release(&self, server: usize, key: &str, number_id: &str) -> BoxFuture<'static, Outcome> {
        let req = self
            .client
            .delete(self.server(server).url(&format!("/v1/phone-numbers/{number_id}?action=release")))
            .bearer_auth(key);
        send(req, Kind::Release, number_id.to_string()).boxed()
    }

    fn assert_both_alive(&mut self) {
        for server in &mut self.servers {
            assert!(server.is_running(), "{} died:\n{}", server.addr, server.log_text());
        }
    }
}

impl Drop for TwoProcesses {
    fn drop(&mut self) {
        // Stop the processes before their database goes.
        self.servers.clear();
        pg::drop_database_blocking(&self.server_url, &self.database);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Purchase,
    Release,
}

#[derive(Debug, Clone)]
struct Outcome {
    kind: Kind,
    /// The inventory id (purchases) or the number id (releases) asked for.
    target: String,
    status: u16,
    body: Value,
    replayed: bool,
}

impl Outcome {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

async fn send(req: reqwest::RequestBuilder, kind: Kind, target: String) -> Outcome {
    let res = req.send().await.unwrap_or_else(|e| panic!("{kind:?} {target}: no answer: {e}"));
    let status = res.status().as_u16();
    let replayed = res.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{kind:?} {target}: {status} not JSON: {text}"));
    Outcome { kind, target, status, body, replayed }
}

fn assert_no_server_errors(outcomes: &[Outcome]) {
    let errors: Vec<_> = outcomes.iter().filter(|o| o.status >= 500).collect();
    assert!(errors.is_empty(), "{} answers were 5xx, e.g. {:?}", errors.len(), errors.first());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn two_processes_sell_each_of_20_numbers_exactly_once_under_200_concurrent_attempts() {
    let server_url = pg::required_server_url();
    let mut env = TwoProcesses::start(server_url).await;
    let orgs = env.organizations("Buyer", 4);
    let inventory = env.stock(&orgs[0].1, 101, 20).await;

    // 200 attempts, 10 per number, from 4 organizations, spread over both processes.
    let attempts: Vec<_> =
        (0..200).map(|i| env.purchase(i % 2, &orgs[(i / 2) % 4].1, &inventory[i % 20], None)).collect();
    let outcomes = join_all(attempts).await;
    env.assert_both_alive();

    assert_no_server_errors(&outcomes);
    let sold: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 201).collect();
    let refused: Vec<&Outcome> =
        outcomes.iter().filter(|o| o.status == 409 && o.code() == "number_unavailable").collect();
    assert_eq!(sold.len(), 20, "exactly 20 purchases succeed");
    assert_eq!(
        refused.len(),
        180,
        "every other attempt is 409 number_unavailable: {:?}",
        outcomes.iter().find(|o| o.status != 201 && o.code() != "number_unavailable")
    );
    let sold_inventory: HashSet<&str> = sold.iter().map(|o| o.target.as_str()).collect();
    assert_eq!(sold_inventory.len(), 20, "no number sold twice, every number sold");
    for o in &sold {
        assert_eq!(o.body["status"], "active");
        assert_eq!(o.body["livemode"], false);
    }

    // The database agrees: one row per sold number, all live, none for sale.
    let live = check_invariants(&env.db).await;
    assert_eq!(live.len(), 20);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM phone_numbers").fetch_one(&env.db).await.unwrap();
    assert_eq!(rows, 20, "one phone_numbers row per sale");
    for o in &sold {
        assert_eq!(live.get(&o.target).map(String::as_str), o.body["id"].as_str(), "the buyer told 201 is the owner");
    }
    let for_sale: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM inventory_numbers WHERE available").fetch_one(&env.db).await.unwrap();
    assert_eq!(for_sale, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn concurrent_release_and_repurchase_across_processes_keep_one_owner_per_number() {
    let server_url = pg::required_server_url();
    let mut env = TwoProcesses::start(server_url).await;
    let orgs = env.organizations("Org", 4);
    let key_of_org: HashMap<String, String> = orgs.iter().cloned().collect();
    let inventory = env.stock(&orgs[0].1, 201, 20).await;

    // Start with every number owned: inventory id -> (number id, owner's key).
    let owner_of = |o: &Outcome| -> (String, String) {
        let org = o.body["organization_id"].as_str().unwrap();
        (o.body["id"].as_str().unwrap().to_string(), key_of_org[org].clone())
    };
    let mut owners: HashMap<String, (String, String)> = HashMap::new();
    let first = join_all(inventory.iter().enumerate().map(|(i, inv)| env.purchase(i, &orgs[i % 4].1, inv, None))).await;
    for o in &first {
        assert_eq!(o.status, 201, "{:?}", o.body);
        owners.insert(o.target.clone(), owner_of(o));
    }
    assert_eq!(check_invariants(&env.db).await.len(), 20);

    let mut total_sales = 20usize;
    for round in 0..6usize {
        let owned_at_start: HashSet<String> = owners.keys().cloned().collect();
        let mut requests: Vec<BoxFuture<'static, Outcome>> = Vec::new();
        for (j, inv) in inventory.iter().enumerate() {
            if let Some((number_id, owner_key)) = owners.get(inv) {
                // The owner releases it on one process; on every other number also on the other
                // process at the same time (a double release is one release).
                requests.push(env.release(round + j, owner_key, number_id));
                if j % 2 == 0 {
                    requests.push(env.release(round + j + 1, owner_key, number_id));
                }
            }
            // Three organizations try to buy it meanwhile, over both processes.
            for b in 0..3 {
                let buyer = &orgs[(round + j + b) % 4].1;
                let attempt = env.purchase(round + j + b, buyer, inv, None);
                let delay = Duration::from_millis((b as u64) * 7 + (j as u64 % 3) * 5);
                requests.push(
                    async move {
                        tokio::time::sleep(delay).await;
                        attempt.await
                    }
                    .boxed(),
                );
            }
        }
        let outcomes = join_all(requests).await;
        env.assert_both_alive();
        assert_no_server_errors(&outcomes);

        let mut sold_this_round: HashMap<String, Vec<&Outcome>> = HashMap::new();
        for o in &outcomes {
            match (o.kind, o.status) {
                (Kind::Release, 200) => {
                    assert_eq!(o.body["status"], "inactive");
                    assert!(o.body["released_at"].is_string());
                }
                (Kind::Purchase, 201) => sold_this_round.entry(o.target.clone()).or_default().push(o),
                (Kind::Purchase, 409) => assert_eq!(o.code(), "number_unavailable", "{:?}", o.body),
                _ => panic!("round {round}: unexpected answer {o:?}"),
            }
        }
        for inv in &inventory {
            let sales = sold_this_round.get(inv).map_or(0, Vec::len);
            // One release per number per round: at most one new owner.
            assert!(sales <= 1, "round {round}: {inv} sold {sales} times");
            if !owned_at_start.contains(inv) {
                assert_eq!(sales, 1, "round {round}: {inv} was for sale all along, one buyer gets it");
            }
            owners.remove(inv);
            if let Some(o) = sold_this_round.get(inv).and_then(|v| v.first()) {
                owners.insert(inv.clone(), owner_of(o));
            }
        }
        total_sales += sold_this_round.values().map(Vec::len).sum::<usize>();

        // The database agrees with what the clients were told.
        let live = check_invariants(&env.db).await;
        let expected: HashMap<String, String> = owners.iter().map(|(inv, (id, _))| (inv.clone(), id.clone())).collect();
        assert_eq!(live, expected, "round {round}: the live owners are the last buyers told 201");
    }

    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM phone_numbers").fetch_one(&env.db).await.unwrap();
    assert_eq!(rows as usize, total_sales, "one row per 201, none for a refusal");
    assert!(total_sales > 40, "numbers were really re-sold ({total_sales} sales)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn the_same_idempotency_key_sent_to_both_processes_at_once_buys_once() {
    let server_url = pg::required_server_url();
    let mut env = TwoProcesses::start(server_url).await;
    let (_, key) = procs::org_with_key(&env.database_url, "Retrier");
    let inventory = env.stock(&key, 301, 10).await;

    // Ten keys, each for its own number, each sent twice to each process at the same moment.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let idem = |k: usize| format!("order-{run}-{k}");
    let mut requests = Vec::new();
    for (k, inv) in inventory.iter().enumerate() {
        for copy in 0..4 {
            requests.push(env.purchase(copy, &key, inv, Some(&idem(k))));
        }
    }
    let outcomes = join_all(requests).await;
    env.assert_both_alive();
    assert_no_server_errors(&outcomes);

    for (k, inv) in inventory.iter().enumerate() {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| &o.target == inv).collect();
        let created: Vec<&Outcome> = mine.iter().copied().filter(|o| o.status == 201).collect();
        assert!(!created.is_empty(), "key {k}: one of the copies buys");
        for o in &mine {
            assert!(
                o.status == 201 || (o.status == 409 && o.code() == "conflict"),
                "key {k}: a copy is the purchase, its replay, or 409 conflict (in progress): {o:?}"
            );
        }
        let ids: HashSet<&str> = created.iter().map(|o| o.body["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 1, "key {k}: every 201 names the same number");
        assert_eq!(created.iter().filter(|o| !o.replayed).count(), 1, "key {k}: exactly one copy did the purchase");
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM phone_numbers WHERE inventory_id = $1::uuid")
            .bind(inv)
            .fetch_one(&env.db)
            .await
            .unwrap();
        assert_eq!(rows, 1, "key {k}: bought once");

        // A later retry on either process replays the same answer.
        for server in 0..2 {
            let retry = env.purchase(server, &key, inv, Some(&idem(k))).await;
            assert_eq!(retry.status, 201);
            assert!(retry.replayed, "the retry is a replay");
            assert_eq!(retry.body["id"].as_str(), ids.iter().next().copied());
        }
    }
    let live = check_invariants(&env.db).await;
    assert_eq!(live.len(), 10);
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'purchase'")
        .fetch_one(&env.db)
        .await
        .unwrap();
    assert_eq!(audited, 10, "ten purchases, ten audit entries");
}

/// Issue 14 across processes: a 20-number order, reservations and single purchases of the same
/// numbers, from four organizations, through both processes at once. No number is sold twice,
/// every 201 is true in the database, and no hold a reservation was granted is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn orders_reservations_and_purchases_across_processes_never_sell_a_number_twice_or_lose_a_hold() {
    let server_url = pg::required_server_url();
    let mut env = TwoProcesses::start(server_url).await;
    let orgs = env.organizations("Racer", 4);
    let inventory = env.stock(&orgs[0].1, 401, 20).await;
    let post = |server: usize, key: &str, path: &str, body: Value| {
        let req = env.client.post(env.server(server).url(path)).bearer_auth(key).json(&body);
        send(req, Kind::Purchase, format!("{path} {body}")).boxed()
    };

    let mut attempts: Vec<BoxFuture<'static, Outcome>> = Vec::new();
    attempts.push(post(0, &orgs[0].1, "/v1/number-orders", json!({ "inventory_ids": inventory })));
    for i in 0..10 {
        let pair = json!({ "inventory_ids": [inventory[(2 * i) % 20], inventory[(2 * i + 7) % 20]] });
        attempts.push(post(i % 2, &orgs[1 + i % 2].1, "/v1/number-reservations", pair));
    }
    for i in 0..30 {
        attempts.push(env.purchase(i % 2, &orgs[1 + i % 3].1, &inventory[(i * 3) % 20], None));
    }
    let outcomes = join_all(attempts).await;
    env.assert_both_alive();
    assert_no_server_errors(&outcomes);
    for o in &outcomes {
        assert!(o.status == 201 || (o.status == 409 && o.code() == "number_unavailable"), "{o:?}");
    }

    // One owner per number at most, and the 201s are the owners.
    let owners = check_invariants(&env.db).await;
    let order = &outcomes[0];
    let bought_singly = outcomes.iter().filter(|o| o.target.len() == 36 && o.status == 201).count();
    let ordered = if order.status == 201 { order.body["numbers"].as_array().unwrap().len() } else { 0 };
    assert_eq!(owners.len(), ordered + bought_singly, "each 201 bought exactly one number (an order, its 20)");
    if order.status == 201 {
        assert_eq!((ordered, bought_singly), (20, 0), "an order that won took every number, and nobody else did");
    }

    // Every granted hold still stands: its number is held by the holder, or bought by it.
    for granted in outcomes.iter().filter(|o| o.target.starts_with("/v1/number-reservations") && o.status == 201) {
        let reservation: uuid::Uuid = granted.body["id"].as_str().unwrap().parse().unwrap();
        let org: uuid::Uuid = sqlx::query_scalar("SELECT organization_id FROM number_reservations WHERE id = $1")
            .bind(reservation)
            .fetch_one(&env.db)
            .await
            .unwrap();
        for n in granted.body["numbers"].as_array().unwrap() {
            let id: uuid::Uuid = n["id"].as_str().unwrap().parse().unwrap();
            let (held_by, owner): (Option<uuid::Uuid>, Option<uuid::Uuid>) = sqlx::query_as(
                "SELECT i.held_by, (SELECT p.organization_id FROM phone_numbers p \
                 WHERE p.inventory_id = i.id AND p.released_at IS NULL) FROM inventory_numbers i WHERE i.id = $1",
            )
            .bind(id)
            .fetch_one(&env.db)
            .await
            .unwrap();
            assert!(
                held_by == Some(org) || owner == Some(org),
                "a hold of {org} on {id} was lost: held by {held_by:?}, owned by {owner:?}"
            );
        }
    }
}
