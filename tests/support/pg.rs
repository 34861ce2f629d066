//! Throw-away PostgreSQL databases for the tests.
//!
//! `KROS_TEST_POSTGRES_URL` names a server (`postgres://postgres@127.0.0.1:55432`, as printed by
//! `scripts/pg.sh start`). When it is set, each test gets a database of its own on that server
//! (`CREATE DATABASE kros_t_<uuid>`), dropped again when the test is done.
#![allow(dead_code)]

use sqlx::Connection;

pub const SERVER_URL_VAR: &str = "KROS_TEST_POSTGRES_URL";

/// The test server's URL, if the tests are to run on PostgreSQL.
pub fn server_url() -> Option<String> {
    std::env::var(SERVER_URL_VAR).ok().map(|u| u.trim().to_string()).filter(|u| !u.is_empty())
}

/// The server a PostgreSQL-only test runs on. Such tests are `#[ignore]`d in a plain `cargo test`
/// and run by `scripts/test-postgres.sh` (in `make test`), which starts a server: without one
/// the test fails rather than pass having tested nothing.
pub fn required_server_url() -> String {
    server_url().unwrap_or_else(|| {
        panic!("this test needs PostgreSQL: {SERVER_URL_VAR} is not set (scripts/test-postgres.sh starts a server and sets it)")
    })
}

/// `server` with its database path replaced by `database` (query parameters kept).
pub fn database_url(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    // Drop a database name the server URL may carry: after `scheme://authority`.
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A new, empty database on the test server; returns (name, URL).
pub async fn create_database(server: &str, prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::postgres::PgConnection::connect(&database_url(server, "postgres"))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the PostgreSQL test server {server}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = admin.close().await;
    let url = database_url(server, &name);
    (name, url)
}

/// Drops a test database, even while connections to it are open (they are terminated). Blocking:
/// usable from `Drop`, inside or outside a Tokio runtime. Errors are ignored (the cluster is
/// thrown away anyway).
pub fn drop_database_blocking(server: &str, name: &str) {
    let server = server.to_string();
    let name = name.to_string();
    let worker = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async move {
            let connect = sqlx::postgres::PgConnection::connect(&database_url(&server, "postgres"));
            if let Ok(Ok(mut admin)) = tokio::time::timeout(std::time::Duration::from_secs(5), connect).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), sqlx::query(&sql).execute(&mut admin))
                    .await;
                let _ = admin.close().await;
            }
        });
    });
    let _ = worker.join();
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_or_adds_the_database() {
        assert_eq!(database_url("postgres://postgres@127.0.0.1:5432", "x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(database_url("postgres://postgres@127.0.0.1:5432/", "x"), "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(database_url("postgres://u:p@h:1/db?sslmode=disable", "x"), "postgres://u:p@h:1/x?sslmode=disable");
    }
}
