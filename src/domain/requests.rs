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
#[serde(deny_unknown_fields)]
pub struct PurchaseBody {
    #[serde(alias = "inventoryId", default)]
    #[cfg_attr(feature = "ssr", schema(format = "uuid"))]
    pub inventory_id: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(example = "+2348031234567"))]
    pub e164: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(example = "NG"))]
    pub country: Option<String>,
    #[serde(rename = "type", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::NumberType>))]
    pub number_type: Option<String>,
    #[serde(rename = "endpointId", alias = "endpoint_id", default)]
    #[cfg_attr(feature = "ssr", schema(format = "uuid"))]
    pub endpoint_id: Option<String>,
    /// Setup plus the first month, in cents.
    #[serde(rename = "totalCostCents", alias = "total_cost_cents", default)]
    pub total_cost_cents: Option<i64>,
    #[serde(rename = "setupCostCents", alias = "setup_cost_cents", default)]
    pub setup_cost_cents: Option<i64>,
    #[serde(rename = "monthlyCostCents", alias = "monthly_cost_cents", default)]
    pub monthly_cost_cents: Option<i64>,
}

/// `PATCH /v1/phone-numbers/{id}`: every field optional; `endpointId: null` detaches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(rename = "endpointId", alias = "endpoint_id", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = "uuid", nullable))]
    pub endpoint_id: Option<Option<String>>,
    #[serde(rename = "allowInbound", alias = "allow_inbound", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>))]
    pub allow_inbound: Option<Option<bool>>,
    #[serde(rename = "allowOutbound", alias = "allow_outbound", default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<bool>))]
    pub allow_outbound: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::NumberStatus>))]
    pub status: Option<Option<String>>,
}

/// `POST /v1/endpoints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointBody {
    /// 1 to 100 characters.
    pub name: String,
}

/// The query of `GET /v1/phone-numbers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListNumbersQuery {
    /// `assigned` (default): the organization's numbers; `available`: inventory to buy.
    #[cfg_attr(feature = "ssr", param(example = "available"))]
    pub action: Option<String>,
    /// ISO 3166-1 alpha-2; required with `action=available`.
    pub country: Option<String>,
    /// `local`, `mobile`, `toll_free` or `national`.
    #[serde(rename = "type")]
    pub number_type: Option<String>,
    /// Digits the number must contain (`available` only).
    pub contains: Option<String>,
    /// 1..100, default 20.
    pub limit: Option<String>,
    /// >= 0, default 0.
    pub offset: Option<String>,
}

/// The query of list routes that only page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// 1..100, default 20.
    pub limit: Option<String>,
    /// >= 0, default 0.
    pub offset: Option<String>,
}

/// The query of `DELETE /v1/phone-numbers/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// `release` to keep the record (soft release); absent for a hard delete.
    pub action: Option<String>,
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
