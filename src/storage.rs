//! The storage interface (`kros-storage`), and the backend chosen once, at start, by the URL:
//! the only place that knows both backends.

pub use kros_storage::*;

use std::sync::Arc;

/// Opens the database named by `url` (`sqlite:` or `postgres:`) and applies pending migrations.
pub async fn open(url: &str, pool: &PoolSettings, if_missing: IfMissing) -> Result<Arc<dyn Storage>, OpenError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(kros_storage_sqlite::SqliteStorage::open(url, pool, if_missing).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(kros_storage_postgres::PgStorage::open(url, pool).await?))
    } else {
        Err(OpenError::Config("DATABASE_URL must start with sqlite: or postgres:".into()))
    }
}
