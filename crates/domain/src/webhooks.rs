//! Events and webhook endpoints as the API shows them.

use super::EventType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Something that happened to a number (or an order): written in the same transaction as the change, so an
/// event exists exactly when the change does. The body of every webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Event {
    /// Also the deliveries' `webhook-id`, the same on every retry: receivers de-duplicate by it.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    pub livemode: bool,
    /// Who made the change: `api_key:<id>`, `user:<id>` or `operator`.
    #[cfg_attr(feature = "ssr", schema(value_type = String, example = "api_key:0b6f8c1e-8a43-4f0e-9d8e-2f1c7b5d9a10"))]
    pub actor: super::Actor,
    pub data: EventData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct EventData {
    /// The number as the API showed it after the change (before it, for a delete; never its
    /// SIP password), or for `number_order.completed` the order.
    #[cfg_attr(feature = "ssr", schema(schema_with = event_object))]
    pub object: serde_json::Value,
    /// `phone_number.updated` only: the fields that changed, with their values before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>, nullable = false))]
    pub previous_attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `data.object`: a phone number, or an order.
#[cfg(feature = "ssr")]
fn event_object() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::{schema::OneOfBuilder, Ref};
    let either =
        OneOfBuilder::new().item(Ref::from_schema_name("PhoneNumber")).item(Ref::from_schema_name("NumberOrder"));
    utoipa::openapi::schema::Schema::OneOf(either.build())
}

/// Which events an endpoint is sent: every type (those added later too), or only these. On the
/// wire, `["*"]` or the types' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<String>", try_from = "Vec<String>")]
pub enum Subscription {
    Everything,
    /// Distinct, in the order they were asked for; at least one.
    Only(Vec<EventType>),
}

impl Subscription {
    pub const EVERYTHING: &'static str = "*";
}

/// As people read it: `every event` or the types' names.
impl std::fmt::Display for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subscription::Everything => f.write_str("every event"),
            Subscription::Only(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                f.write_str(&names.join(", "))
            }
        }
    }
}

impl From<Subscription> for Vec<String> {
    fn from(subscription: Subscription) -> Self {
        match subscription {
            Subscription::Everything => vec![Subscription::EVERYTHING.to_string()],
            Subscription::Only(types) => types.iter().map(|t| t.as_str().to_string()).collect(),
        }
    }
}

/// `*` anywhere means everything; otherwise each name is an event type (repeats are ignored).
impl TryFrom<Vec<String>> for Subscription {
    type Error = String;

    fn try_from(names: Vec<String>) -> Result<Self, Self::Error> {
        if names.is_empty() {
            return Err("events must name at least one event type, or *".into());
        }
        if names.iter().any(|name| name.trim() == Subscription::EVERYTHING) {
            return Ok(Subscription::Everything);
        }
        let mut types: Vec<EventType> = Vec::new();
        for name in &names {
            let t = name
                .trim()
                .parse::<EventType>()
                .map_err(|_| format!("events must be * or of {}", EventType::allowed_values()))?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(Subscription::Only(types))
    }
}

/// Where events are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    #[cfg_attr(feature = "ssr", schema(example = "https://example.com/kros/webhooks"))]
    pub url: String,
    pub description: String,
    /// The event types sent to it; `["*"]`: all of them, including types added later.
    #[cfg_attr(feature = "ssr", schema(schema_with = event_selection))]
    pub events: Subscription,
    /// A disabled endpoint is sent nothing; its deliveries wait until it is enabled again.
    pub enabled: bool,
    /// Why it was disabled automatically (every attempt failing for too long); null otherwise.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub disabled_reason: Option<String>,
    pub livemode: bool,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub updated_at: String,
}

/// An endpoint with its signing secret: the answer of creating one and of rotating its secret,
/// the only times the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The Standard Webhooks signing secret (`whsec_` and base64): verify deliveries with it,
    /// for example with the `standardwebhooks` library.
    #[cfg_attr(feature = "ssr", schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))]
    pub secret: String,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct DeliveryAttempt {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: EventType,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub attempted_at: String,
    /// The receiver answered 2xx.
    pub succeeded: bool,
    /// The receiver's HTTP status; null when it did not answer.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub response_status: Option<i32>,
    pub latency_ms: i64,
    /// The start of the receiver's answer (at most 1 KiB).
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub response_body: Option<String>,
    /// Why there was no answer (a timeout, a refused connection, a private address).
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub error: Option<String>,
}

/// `POST /v1/events/{id}/redeliver`: where the event is sent again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Redelivery {
    pub event_id: Uuid,
    /// The endpoints it is due for now (none: no enabled endpoint is subscribed to its type).
    pub endpoint_ids: Vec<Uuid>,
}

/// `events`: event types, or `*` for all.
#[cfg(feature = "ssr")]
pub(crate) fn event_selection() -> utoipa::openapi::schema::Array {
    event_selection_builder().build()
}

/// `events` where `null` is the same as absent.
#[cfg(feature = "ssr")]
pub(crate) fn event_selection_or_null() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{SchemaType, Type};
    event_selection_builder().schema_type(SchemaType::from_iter([Type::Array, Type::Null])).build()
}

#[cfg(feature = "ssr")]
fn event_selection_builder() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let names = std::iter::once(Subscription::EVERYTHING).chain(EventType::ALL.iter().map(|t| t.as_str()));
    let item = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names));
    // Repeated names are ignored, not refused: no `uniqueItems`.
    ArrayBuilder::new().items(item).min_items(Some(1))
}
