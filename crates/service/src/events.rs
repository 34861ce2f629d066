//! Events: the audit log as the API shows it. Every purchase, change, release and delete writes
//! one audit entry in its own transaction (`audit::record`), so an event exists exactly when the
//! change does; the same transaction writes its webhook deliveries (the outbox).

use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::parse_uuid;
use kros_domain::parse::{parse_enum, PageRequest};
use kros_domain::{Event, EventData, EventType, EventsQuery, Page};
use kros_storage::{self as storage, AuditAction, AuditRecord, EventFilter};
use serde_json::{Map, Value};
use uuid::Uuid;

pub fn event_type(action: AuditAction) -> EventType {
    match action {
        AuditAction::Purchase => EventType::PhoneNumberPurchased,
        AuditAction::Update => EventType::PhoneNumberUpdated,
        AuditAction::Release => EventType::PhoneNumberReleased,
        AuditAction::Delete => EventType::PhoneNumberDeleted,
        AuditAction::Order => EventType::NumberOrderCompleted,
    }
}

fn action_of(event_type: EventType) -> AuditAction {
    match event_type {
        EventType::PhoneNumberPurchased => AuditAction::Purchase,
        EventType::PhoneNumberUpdated => AuditAction::Update,
        EventType::PhoneNumberReleased => AuditAction::Release,
        EventType::PhoneNumberDeleted => AuditAction::Delete,
        EventType::NumberOrderCompleted => AuditAction::Order,
    }
}

/// The entry as an event: the number after the change (before it, for a delete) and, for an
/// update, the fields that changed with their earlier values; for an order, the order.
pub fn to_event(entry: AuditRecord) -> Event {
    let before = entry.before_state.map(|s| s.0);
    let after = entry.after_state.map(|s| s.0);
    let previous_attributes = match (entry.action, &before, &after) {
        (AuditAction::Update, Some(Value::Object(before)), Some(Value::Object(after))) => {
            Some(changed_fields(before, after))
        }
        _ => None,
    };
    Event {
        id: entry.id,
        event_type: event_type(entry.action),
        created_at: storage::format_time(entry.created_at),
        livemode: entry.livemode,
        actor: entry.actor,
        data: EventData { object: after.or(before).unwrap_or(Value::Null), previous_attributes },
    }
}

/// The fields of `before` whose value differs in `after`, with their values in `before`.
fn changed_fields(before: &Map<String, Value>, after: &Map<String, Value>) -> Map<String, Value> {
    before
        .iter()
        .filter(|(field, value)| after.get(*field) != Some(*value))
        .map(|(f, v)| (f.clone(), v.clone()))
        .collect()
}

/// `GET /v1/events`: which events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsRequest {
    pub filter: EventFilter,
    pub page: PageRequest,
}

impl EventsRequest {
    pub fn parse(query: &EventsQuery) -> Result<Self, AppError> {
        let action = match query.event_type.as_deref() {
            Some(raw) => Some(action_of(parse_enum::<EventType>("type", raw.trim())?)),
            None => None,
        };
        let phone_number_id = match query.phone_number_id.as_deref() {
            Some(raw) => Some(parse_uuid("phone_number_id", raw)?),
            None => None,
        };
        let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
        Ok(EventsRequest { filter: EventFilter { action, phone_number_id }, page })
    }
}

/// The tenant's events, newest first.
pub async fn list(ctx: &Context, tenant: &Tenant, request: EventsRequest) -> Result<Page<Event>, AppError> {
    let found = ctx.store.events(tenant.scope(), request.filter, request.page.into()).await?;
    let data = found.rows.into_iter().map(to_event).collect();
    Ok(Page { data, total: found.total, limit: request.page.limit, offset: request.page.offset })
}

/// Another organization's event, or another mode's, is "not found" like one that never was.
pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<Event, AppError> {
    let entry = ctx.store.event(tenant.scope(), id).await?.ok_or_else(|| AppError::not_found("event"))?;
    Ok(to_event(entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_update_names_only_the_fields_that_changed_with_their_earlier_values() {
        let before = json!({"status": "active", "allow_inbound": true, "endpoint_id": null});
        let after = json!({"status": "active", "allow_inbound": false, "endpoint_id": "e1"});
        let changed = changed_fields(before.as_object().unwrap(), after.as_object().unwrap());
        assert_eq!(Value::Object(changed), json!({"allow_inbound": true, "endpoint_id": null}));
    }

    #[test]
    fn every_event_type_is_an_audit_action_and_back() {
        for t in EventType::ALL {
            assert_eq!(event_type(action_of(*t)), *t);
        }
    }
}
