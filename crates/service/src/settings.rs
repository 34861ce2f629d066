//! Installation-wide values kept in the database, so every process and the CLI agree on them.

use crate::error::AppError;
use kros_storage::Storage;

/// Returns the named secret, generating and storing it the first time. Safe when several
/// processes start at once: the first insert wins and everyone reads that one.
pub async fn secret(store: &dyn Storage, name: &str) -> Result<String, AppError> {
    value_or_insert(store, name, &super::random_string(48, super::ALNUM)).await
}

/// Returns the named value, storing `fresh` the first time (the first writer wins).
pub async fn value_or_insert(store: &dyn Storage, name: &str, fresh: &str) -> Result<String, AppError> {
    Ok(store.setting_or_insert(name, fresh).await?)
}
