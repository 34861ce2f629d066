//! Installation-wide values kept in the database, so every process and the CLI agree on them.

use crate::db::Db;
use crate::error::AppError;
use sqlx::Row;

/// Returns the named secret, generating and storing it the first time. Safe when several
/// processes start at once: the first insert wins and everyone reads that one.
pub async fn secret(db: &Db, name: &str) -> Result<String, AppError> {
    let fresh = super::random_string(48, super::ALNUM);
    sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(&fresh)
        .execute(db)
        .await?;
    let row = sqlx::query("SELECT value FROM settings WHERE name = $1").bind(name).fetch_one(db).await?;
    Ok(row.try_get("value")?)
}
