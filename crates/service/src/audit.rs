//! The append-only audit log of every purchase, change, release and delete. It has no foreign
//! keys, so it outlives the records it describes. Each entry is also an event (`events`), and
//! its webhook deliveries are written with it.

use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::{NumberOrder, PhoneNumber};
use kros_storage::{self as storage, AuditRecord, WriteTx};
use sqlx::types::Json;
use uuid::Uuid;

pub use kros_storage::AuditAction as Action;

/// Writes one entry in the caller's transaction, so it exists exactly when the change does, and
/// the outbox's deliveries of it to the tenant's subscribed webhook endpoints.
pub async fn record(
    tx: &mut dyn WriteTx,
    tenant: &Tenant,
    phone_number_id: Uuid,
    action: Action,
    before: Option<&PhoneNumber>,
    after: Option<&PhoneNumber>,
) -> Result<(), AppError> {
    append(tx, tenant, Some(phone_number_id), action, state(before)?, state(after)?).await
}

/// Writes the entry of a completed bulk order (`number_order.completed`), in its transaction.
pub async fn record_order(tx: &mut dyn WriteTx, tenant: &Tenant, order: &NumberOrder) -> Result<(), AppError> {
    append(tx, tenant, None, Action::Order, None, state(Some(order))?).await
}

fn state(object: Option<&impl serde::Serialize>) -> Result<Option<Json<serde_json::Value>>, AppError> {
    object
        .map(|o| serde_json::to_value(o).map(Json))
        .transpose()
        .map_err(|e| AppError::internal_caused_by("cannot record the change", e))
}

async fn append(
    tx: &mut dyn WriteTx,
    tenant: &Tenant,
    phone_number_id: Option<Uuid>,
    action: Action,
    before_state: Option<Json<serde_json::Value>>,
    after_state: Option<Json<serde_json::Value>>,
) -> Result<(), AppError> {
    let entry = AuditRecord {
        id: Uuid::new_v4(),
        organization_id: tenant.organization_id,
        livemode: tenant.livemode(),
        phone_number_id,
        action,
        actor: tenant.actor,
        before_state,
        after_state,
        created_at: storage::now(),
    };
    tx.append_audit(&entry).await?;
    let event_type = super::events::event_type(action);
    tx.enqueue_deliveries(tenant.scope(), entry.id, event_type.as_str()).await?;
    Ok(())
}

/// The history of one number, oldest first (for operators and tests).
pub async fn history(ctx: &Context, phone_number_id: Uuid) -> Result<Vec<AuditRecord>, AppError> {
    Ok(ctx.store.audit_history(phone_number_id).await?)
}
