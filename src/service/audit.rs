//! The append-only audit log of every purchase, change, release and delete. It has no foreign
//! keys, so it outlives the records it describes.

use super::Tenant;
use crate::db::{self, Db, Tx};
use crate::domain::PhoneNumber;
use crate::error::AppError;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Purchase,
    Update,
    Release,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Purchase => "purchase",
            Action::Update => "update",
            Action::Release => "release",
            Action::Delete => "delete",
        }
    }
}

/// Writes one entry in the caller's transaction, so it exists exactly when the change does.
pub async fn record(
    tx: &mut Tx,
    tenant: &Tenant,
    phone_number_id: Uuid,
    action: Action,
    before: Option<&PhoneNumber>,
    after: Option<&PhoneNumber>,
) -> Result<(), AppError> {
    let json = |n: Option<&PhoneNumber>| {
        n.map(serde_json::to_string).transpose().map_err(|e| AppError::internal(e.to_string()))
    };
    sqlx::query(
        "INSERT INTO audit_log (id, organization_id, livemode, phone_number_id, action, actor, \
         before_state, after_state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(tenant.organization_id.to_string())
    .bind(db::flag(tenant.livemode()))
    .bind(phone_number_id.to_string())
    .bind(action.as_str())
    .bind(tenant.actor.audit_name())
    .bind(json(before)?)
    .bind(json(after)?)
    .bind(db::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One audit entry, as read back by operators and tests.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub organization_id: String,
    pub livemode: i64,
    pub phone_number_id: String,
    pub action: String,
    pub actor: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub created_at: String,
}

/// The history of one number, oldest first.
pub async fn history(db: &Db, phone_number_id: Uuid) -> Result<Vec<AuditEntry>, AppError> {
    Ok(sqlx::query_as(
        "SELECT organization_id, livemode, phone_number_id, action, actor, before_state, after_state, created_at \
         FROM audit_log WHERE phone_number_id = $1 ORDER BY created_at, id",
    )
    .bind(phone_number_id.to_string())
    .fetch_all(db)
    .await?)
}
