//! Request bodies and queries exactly as clients send them. Unknown fields are refused; each
//! field also accepts its other spelling (`endpointId` / `endpoint_id`). Values stay as sent
//! (text) so the service can refuse them with a message naming the field and what is allowed.

use serde::{Deserialize, Deserializer, Serialize};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/phone-numbers`. Either `inventory_id` (API flow) or `e164` + `country` + `type`
/// (dashboard flow); the optional costs are the price the buyer saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(
    description = "Give `inventory_id` (the API flow), or `e164` with `country` and `type` (the dashboard \
        flow): one of `e164`, `country`, `type` asks for all three; `null` is the same as absent. Both flows at once must name the same \
        inventory number. Any cost given must be the current price, else 409 `price_changed` and nothing is bought.",
    example = json!({"inventory_id": "5b0f4c1e-8a43-4f0e-9d8e-2f1c7b5d9a10", "totalCostCents": 215}),
))]
#[serde(deny_unknown_fields)]
pub struct PurchaseBody {
    /// An inventory number's `id`, from `GET /v1/phone-numbers?action=available`.
    #[serde(alias = "inventoryId", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<uuid::Uuid>, nullable))]
    pub inventory_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::parse::E164>, nullable))]
    pub e164: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::parse::CountryCode>, nullable))]
    pub country: Option<String>,
    #[serde(rename = "type", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::NumberType>, nullable))]
    pub number_type: Option<String>,
    /// An endpoint of this organization and mode to attach the number to (another id is a 400).
    #[serde(rename = "endpointId", alias = "endpoint_id", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<uuid::Uuid>, nullable))]
    pub endpoint_id: Option<String>,
    /// Setup plus the first month, in cents, as the buyer saw it.
    #[serde(rename = "totalCostCents", alias = "total_cost_cents", default, deserialize_with = "whole_number")]
    #[cfg_attr(feature = "ssr", schema(nullable, minimum = 0, maximum = 2_000_000_000))]
    pub total_cost_cents: Option<i64>,
    #[serde(rename = "setupCostCents", alias = "setup_cost_cents", default, deserialize_with = "whole_number")]
    #[cfg_attr(feature = "ssr", schema(nullable, minimum = 0, maximum = 2_000_000_000))]
    pub setup_cost_cents: Option<i64>,
    #[serde(rename = "monthlyCostCents", alias = "monthly_cost_cents", default, deserialize_with = "whole_number")]
    #[cfg_attr(feature = "ssr", schema(nullable, minimum = 0, maximum = 2_000_000_000))]
    pub monthly_cost_cents: Option<i64>,
}

/// `PATCH /v1/phone-numbers/{id}`: every field optional; `endpointId: null` detaches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"allowOutbound": true, "status": "active"})))]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(rename = "endpointId", alias = "endpoint_id", default, deserialize_with = "present")]
    /// An endpoint of this organization and mode (another id is a 400), or `null` to detach the
    /// number.
    #[cfg_attr(feature = "ssr", schema(value_type = Option<uuid::Uuid>, nullable))]
    pub endpoint_id: Option<Option<String>>,
    #[serde(rename = "allowInbound", alias = "allow_inbound", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>, nullable = false))]
    pub allow_inbound: Option<Option<bool>>,
    #[serde(rename = "allowOutbound", alias = "allow_outbound", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>, nullable = false))]
    pub allow_outbound: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::NumberStatus>, nullable = false))]
    pub status: Option<Option<String>>,
    /// 0 to 64 characters once trimmed (`""` removes the name), without control or invisible
    /// characters.
    #[serde(rename = "friendlyName", alias = "friendly_name", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, nullable = false, max_length = 64))]
    pub friendly_name: Option<Option<String>>,
    /// The number's whole set of tags, replacing the old one (`[]` removes them all): up to 10,
    /// distinct, each 1 to 32 of `a-z`, `0-9`, `-` and `_`.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(schema_with = tag_set))]
    pub tags: Option<Option<Vec<String>>>,
    /// While true, release and delete answer 409 `conflict`.
    #[serde(rename = "deletionLocked", alias = "deletion_locked", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>, nullable = false))]
    pub deletion_locked: Option<Option<bool>>,
}

/// A number's `tags` in a PATCH: up to 10 distinct tags, each 1 to 32 of `a-z`, `0-9`, `-`, `_`.
#[cfg(feature = "ssr")]
fn tag_set() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let tag = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[a-z0-9_-]{1,32}$"));
    ArrayBuilder::new()
        .items(tag)
        .max_items(Some(10))
        .unique_items(true)
        .description(Some("The number's whole set of tags, replacing the old one (`[]` removes them all)"))
        .build()
}

/// `POST /v1/endpoints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"name": "Support line", "targets": ["sip:pbx.example.com"]})))]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointBody {
    /// 1 to 100 characters once trimmed, without control or invisible characters (zero-width
    /// spaces, bidirectional overrides), line separators, private-use or unassigned code points.
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 100, pattern = r"\S"))]
    pub name: String,
    /// 0 to 5 `sip:`/`sips:` URIs (a host or address, an optional port and
    /// `;transport=udp|tcp|tls`), tried in order; none twice. Hosts must be public (loopback,
    /// private and link-local addresses are refused unless the operator allows them).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 5, nullable = false))]
    pub targets: Option<Vec<String>>,
    /// 1 to 30 (default 5).
    #[serde(default, alias = "failoverTimeoutSecs", deserialize_with = "whole_number")]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 30, nullable = false))]
    pub failover_timeout_secs: Option<i64>,
}

/// `PATCH /v1/endpoints/{id}`: every field optional; `targets` replaces the whole list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"targets": ["sip:pbx.example.com", "sip:backup.example.com"]})))]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpointBody {
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 100))]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Vec<String>>, nullable = false, max_items = 5))]
    pub targets: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present_whole_number", alias = "failoverTimeoutSecs")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>, nullable = false, minimum = 1, maximum = 30))]
    pub failover_timeout_secs: Option<Option<i64>>,
}

/// The query of `GET /v1/phone-numbers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListNumbersQuery {
    /// `assigned` (default): the organization's numbers, newest first; `available`: the inventory
    /// for sale, by E.164, and then `country` is required.
    #[cfg_attr(feature = "ssr", param(value_type = Option<super::ListAction>, nullable = false, example = "available"))]
    pub action: Option<String>,
    /// Required with `action=available` (a 400 without it); filters both lists.
    #[cfg_attr(feature = "ssr", param(value_type = Option<super::parse::CountryCode>, nullable = false))]
    pub country: Option<String>,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "ssr", param(value_type = Option<super::NumberType>, nullable = false))]
    pub number_type: Option<String>,
    /// Digits the number must contain; `action=available` only (a 400 with `assigned`).
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, nullable = false, pattern = r"^\+?[0-9]{1,15}$"))]
    pub contains: Option<String>,
    /// A tag the number carries; `action=assigned` only (a 400 with `available`).
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, nullable = false, pattern = r"^[a-z0-9_-]{1,32}$"))]
    pub tag: Option<String>,
    /// `action=assigned` only: digits (`+` and 1 to 15) the number contains, or any other text
    /// (1 to 64 characters) its friendly name contains, in any case.
    #[cfg_attr(feature = "ssr", param(value_type = Option<String>, nullable = false, min_length = 1, max_length = 64, pattern = r"\S"))]
    pub q: Option<String>,
    /// Default 20.
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, nullable = false, minimum = 1, maximum = 100))]
    pub limit: Option<String>,
    /// Default 0.
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, nullable = false, minimum = 0))]
    pub offset: Option<String>,
}

/// The query of list routes that only page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Default 20.
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, nullable = false, minimum = 1, maximum = 100))]
    pub limit: Option<String>,
    /// Default 0.
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, nullable = false, minimum = 0))]
    pub offset: Option<String>,
}

/// The query of `DELETE /v1/phone-numbers/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// `release` to keep the record (soft release); absent for a hard delete.
    #[cfg_attr(feature = "ssr", param(value_type = Option<super::DeleteAction>, nullable = false))]
    pub action: Option<String>,
}

/// `POST /v1/webhook-endpoints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"url": "https://example.com/kros/webhooks", "events": ["phone_number.purchased"]})))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpointBody {
    /// An `https` URL of at most 2048 characters, without credentials, whose host resolves to
    /// public addresses only (unless the operator allows http and private addresses).
    #[cfg_attr(feature = "ssr", schema(min_length = 1, max_length = 2048, pattern = "^https?://"))]
    pub url: String,
    /// The event types to send (`*` for all; a name given twice counts once); default all.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = super::webhooks::event_selection_or_null))]
    pub events: Option<Vec<String>>,
    /// Up to 200 characters (default empty).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 200, nullable))]
    pub description: Option<String>,
}

/// `PATCH /v1/webhook-endpoints/{id}`: every field optional. Enabling an endpoint sends it
/// the deliveries that waited while it was disabled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"enabled": false})))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpointBody {
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, nullable = false, min_length = 1, max_length = 2048, pattern = "^https?://"))]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(schema_with = super::webhooks::event_selection))]
    pub events: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>, nullable = false))]
    pub enabled: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, nullable = false, max_length = 200))]
    pub description: Option<Option<String>>,
}

/// `POST /v1/events/{id}/redeliver`; the body is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RedeliverBody {
    /// One endpoint of this organization and mode to send it to (whatever its event types);
    /// absent: every enabled endpoint subscribed to the event's type.
    #[serde(rename = "webhookEndpointId", alias = "webhook_endpoint_id", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<uuid::Uuid>, nullable))]
    pub webhook_endpoint_id: Option<String>,
}

/// The query of `GET /v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events of this type.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "ssr", param(value_type = Option<super::EventType>, nullable = false))]
    pub event_type: Option<String>,
    /// Only events of this number.
    #[cfg_attr(feature = "ssr", param(value_type = Option<uuid::Uuid>, nullable = false))]
    pub phone_number_id: Option<String>,
    /// Default 20.
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, nullable = false, minimum = 1, maximum = 100))]
    pub limit: Option<String>,
    /// Default 0.
    #[cfg_attr(feature = "ssr", param(value_type = Option<i64>, nullable = false, minimum = 0))]
    pub offset: Option<String>,
}

/// A whole number (cents, a quantity), also when written `860.0`: JSON has one number type, and JSON
/// Schema counts `860.0` as an integer. `null` is the same as absent.
pub(super) fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    if let Some(whole) = number.as_i64() {
        return Ok(Some(whole));
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom(format!("{number} is not a whole number"))),
    }
}

/// [`whole_number`], telling `null` (`Some(None)`) from absent (`None`).
fn present_whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<i64>>, D::Error> {
    whole_number(deserializer).map(Some)
}

/// Tells a field that was sent as `null` (`Some(None)`) from one that was absent (`None`).
fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_whole_numbers_however_written() {
        let b: PurchaseBody = serde_json::from_str(r#"{"totalCostCents": 860.0, "setupCostCents": null}"#).unwrap();
        assert_eq!((b.total_cost_cents, b.setup_cost_cents), (Some(860), None));
        assert!(serde_json::from_str::<PurchaseBody>(r#"{"totalCostCents": 860.5}"#).is_err());
        assert!(serde_json::from_str::<PurchaseBody>(r#"{"totalCostCents": 1e300}"#).is_err());
        assert!(serde_json::from_str::<PurchaseBody>(r#"{"totalCostCents": "860"}"#).is_err());
    }

    #[test]
    fn update_body_tells_null_from_absent() {
        let b: UpdateBody = serde_json::from_str(r#"{"endpointId": null}"#).unwrap();
        assert_eq!(b.endpoint_id, Some(None));
        assert_eq!(b.allow_inbound, None);
    }

    #[test]
    fn bodies_accept_both_spellings_and_refuse_unknown_fields() {
        let b: UpdateBody = serde_json::from_str(r#"{"allow_inbound": false}"#).unwrap();
        assert_eq!(b.allow_inbound, Some(Some(false)));
        let b: PurchaseBody = serde_json::from_str(r#"{"inventoryId": "x", "endpoint_id": "y"}"#).unwrap();
        assert_eq!(b.inventory_id.as_deref(), Some("x"));
        assert_eq!(b.endpoint_id.as_deref(), Some("y"));
        assert!(serde_json::from_str::<UpdateBody>(r#"{"allowInbond": true}"#).is_err());
    }
}
