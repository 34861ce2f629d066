//! `kros-schema DATABASE_URL MIGRATIONS_DIR`: creates the database (SQLite) and applies the
//! migrations of `MIGRATIONS_DIR` to it, read at run time, as the backends apply them (SQLite with
//! foreign keys off, as its table rebuilds need).

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: kros-schema DATABASE_URL MIGRATIONS_DIR".into());
    };
    let migrator = Migrator::new(std::path::Path::new(&dir)).await?;
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(&url)?.create_if_missing(true).foreign_keys(false);
        let mut conn = options.connect().await?;
        migrator.run(&mut conn).await?;
        conn.close().await?;
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await?;
        migrator.run(&mut conn).await?;
        conn.close().await?;
    }
    Ok(())
}
