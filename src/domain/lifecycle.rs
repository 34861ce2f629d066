//! Reservations and bulk orders (issue 14): the objects as the API shows them, and their bodies.

use super::{InventoryNumber, PhoneNumber};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Its unbought numbers are held until `expires_at`.
    Active,
    /// Every number was bought under it.
    Completed,
    /// Released early (`DELETE`).
    Released,
    /// `expires_at` passed.
    Expired,
}

/// Where one reserved number stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    /// Held for this organization: nobody else can buy it until `expires_at`.
    Held,
    /// Bought by this organization under the hold.
    Purchased,
    /// No longer held by this reservation: it expired or was released, or a newer reservation
    /// of this organization holds the number now.
    Lapsed,
}

/// A number of a reservation: the inventory number, and where its hold stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ReservedNumber {
    #[serde(flatten)]
    pub number: InventoryNumber,
    pub hold: HoldStatus,
}

/// Numbers held for an organization for a while (`KROS_RESERVATION_MINUTES`, 15 by default).
/// Buy one with the normal purchase (`POST /v1/phone-numbers`, by `inventory_id` or `e164`),
/// which consumes its hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Reservation {
    pub id: Uuid,
    pub status: ReservationStatus,
    /// In the order they were asked for.
    pub numbers: Vec<ReservedNumber>,
    /// RFC 3339, UTC: the holds end then, whatever happens.
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub expires_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    /// Set when it was released early.
    #[cfg_attr(feature = "ssr", schema(format = DateTime, required = true))]
    pub released_at: Option<String>,
    pub livemode: bool,
}

/// A bulk purchase: every number bought in one transaction, or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NumberOrder {
    pub id: Uuid,
    /// Always `completed`: an order that cannot buy every number buys none and is not kept.
    #[cfg_attr(feature = "ssr", schema(example = "completed"))]
    pub status: String,
    /// The numbers as bought, in the order they were asked for.
    pub numbers: Vec<PhoneNumber>,
    /// Setup plus the first month of every number.
    pub total_cost_cents: i64,
    #[cfg_attr(feature = "ssr", schema(example = "USD"))]
    pub currency: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    pub livemode: bool,
}

/// `POST /v1/number-reservations`: `inventory_ids` (1 to 20), or `country` (with `type` and
/// `contains` if wanted) and `quantity` (1 to 20) for any numbers that match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"inventory_ids": ["5b0f4c1e-8a43-4f0e-9d8e-2f1c7b5d9a10"]})))]
#[serde(deny_unknown_fields)]
pub struct CreateReservationBody {
    /// Inventory numbers' `id`s, distinct, from `GET /v1/phone-numbers?action=available`.
    #[serde(alias = "inventoryIds", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Vec<uuid::Uuid>>, nullable, min_items = 1, max_items = 20))]
    pub inventory_ids: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::parse::CountryCode>, nullable))]
    pub country: Option<String>,
    #[serde(rename = "type", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::NumberType>, nullable))]
    pub number_type: Option<String>,
    /// Digits the numbers must contain.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, nullable, pattern = r"^\+?[0-9]{1,15}$"))]
    pub contains: Option<String>,
    #[serde(default, deserialize_with = "super::requests::whole_number")]
    #[cfg_attr(feature = "ssr", schema(nullable, minimum = 1, maximum = 20))]
    pub quantity: Option<i64>,
}

/// `POST /v1/number-orders`: `inventory_ids` (1 to 100), or `country` (with `type` and
/// `contains` if wanted) and `quantity` (1 to 100); all are bought, or none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[cfg_attr(feature = "ssr", schema(example = json!({"country": "US", "type": "local", "quantity": 5, "totalCostCents": 1075})))]
#[serde(deny_unknown_fields)]
pub struct CreateOrderBody {
    /// Inventory numbers' `id`s, distinct, from `GET /v1/phone-numbers?action=available`.
    #[serde(alias = "inventoryIds", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Vec<uuid::Uuid>>, nullable, min_items = 1, max_items = 100))]
    pub inventory_ids: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::parse::CountryCode>, nullable))]
    pub country: Option<String>,
    #[serde(rename = "type", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<super::NumberType>, nullable))]
    pub number_type: Option<String>,
    /// Digits the numbers must contain.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, nullable, pattern = r"^\+?[0-9]{1,15}$"))]
    pub contains: Option<String>,
    #[serde(default, deserialize_with = "super::requests::whole_number")]
    #[cfg_attr(feature = "ssr", schema(nullable, minimum = 1, maximum = 100))]
    pub quantity: Option<i64>,
    /// An endpoint of this organization and mode to attach every number to.
    #[serde(rename = "endpointId", alias = "endpoint_id", default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<uuid::Uuid>, nullable))]
    pub endpoint_id: Option<String>,
    /// Setup plus the first month of every number, as the buyer saw it: if it is not the
    /// current total, 409 `price_changed` and nothing is bought.
    #[serde(
        rename = "totalCostCents",
        alias = "total_cost_cents",
        default,
        deserialize_with = "super::requests::whole_number"
    )]
    #[cfg_attr(feature = "ssr", schema(nullable, minimum = 0, maximum = 200_000_000_000_i64))]
    pub total_cost_cents: Option<i64>,
}
