//! Reservations and bulk orders (issue 14): the objects as the API shows them, and their bodies.

use super::{InventoryNumber, PhoneNumber};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Where an order stands: an order that cannot buy every number buys none and is not kept, so
/// every order there is has completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Completed,
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Its unbought numbers are held until `expires_at`.
    Active,
    /// Every number was bought under it.
    Completed,
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
    /// No longer held by this reservation: it expired, or a newer reservation of this
    /// organization holds the number now.
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
    pub livemode: bool,
}

/// A bulk purchase: every number bought in one transaction, or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NumberOrder {
    pub id: Uuid,
    /// Always `completed`: an order that cannot buy every number buys none and is not kept.
    pub status: OrderStatus,
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
#[serde(deny_unknown_fields)]
pub struct CreateReservationBody {
    /// Inventory numbers' `id`s, distinct, from `GET /v1/phone-numbers?action=available`.
    #[serde(alias = "inventoryIds", default)]
    pub inventory_ids: Option<Vec<String>>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(rename = "type", default)]
    pub number_type: Option<String>,
    /// Digits the numbers must contain.
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default, deserialize_with = "super::requests::whole_number")]
    pub quantity: Option<i64>,
}

/// `POST /v1/number-orders`: `inventory_ids` (1 to 100), or `country` (with `type` and
/// `contains` if wanted) and `quantity` (1 to 100); all are bought, or none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrderBody {
    /// Inventory numbers' `id`s, distinct, from `GET /v1/phone-numbers?action=available`.
    #[serde(alias = "inventoryIds", default)]
    pub inventory_ids: Option<Vec<String>>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(rename = "type", default)]
    pub number_type: Option<String>,
    /// Digits the numbers must contain.
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default, deserialize_with = "super::requests::whole_number")]
    pub quantity: Option<i64>,
    /// An endpoint of this organization and mode to attach every number to.
    #[serde(rename = "endpointId", alias = "endpoint_id", default)]
    pub endpoint_id: Option<String>,
    /// Setup plus the first month of every number, as the buyer saw it: if it is not the
    /// current total, 409 `price_changed` and nothing is bought.
    #[serde(
        rename = "totalCostCents",
        alias = "total_cost_cents",
        default,
        deserialize_with = "super::requests::whole_number"
    )]
    pub total_cost_cents: Option<i64>,
}

/// The documented shape of the two bodies that select numbers: one of two forms, each closed
/// (what the field rules say, in JSON Schema: `inventory_ids`, or `country` with `quantity`;
/// the other form's fields may only be `null`, the same as absent).
#[cfg(feature = "ssr")]
mod selection_schema {
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
    };
    use utoipa::openapi::{KnownFormat, Ref, RefOr};

    fn null() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::Null)
    }

    fn uuid() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
    }

    /// One form: its own fields (required ones first), the other form's as `null` only, and the
    /// fields both forms share.
    fn form(
        own: Vec<(&str, RefOr<Schema>)>,
        required: &[&str],
        others: &[&str],
        shared: &[(&str, RefOr<Schema>)],
    ) -> ObjectBuilder {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for (name, schema) in own {
            object = object.property(name, schema);
        }
        for name in others {
            object = object.property(*name, null());
        }
        for (name, schema) in shared {
            object = object.property(*name, schema.clone());
        }
        for name in required {
            object = object.required(*name);
        }
        object
    }

    /// `inventory_ids` (1 to `max`, distinct), or `country` + `quantity` (1 to `max`) with
    /// `type` and `contains`; `shared` fields go with either.
    pub fn selection(
        description: &str,
        max: usize,
        shared: &[(&str, RefOr<Schema>)],
        example: serde_json::Value,
    ) -> RefOr<Schema> {
        let ids = ArrayBuilder::new()
            .items(uuid())
            .min_items(Some(1))
            .max_items(Some(max))
            .unique_items(true)
            .description(Some("Inventory numbers' `id`s, from `GET /v1/phone-numbers?action=available`"));
        let by_ids = form(
            vec![("inventory_ids", ids.into())],
            &["inventory_ids"],
            &["country", "type", "contains", "quantity"],
            shared,
        );
        let quantity = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(max as f64))
            .description(Some("How many numbers: the first ones for sale by E.164 that nobody holds"));
        let contains = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .pattern(Some(r"^\+?[0-9]{1,15}$"))
            .description(Some("Digits the numbers must contain"));
        let or_null =
            |name: &str| -> RefOr<Schema> { OneOfBuilder::new().item(null()).item(Ref::from_schema_name(name)).into() };
        let by_filter = form(
            vec![
                ("country", Ref::from_schema_name("CountryCode").into()),
                ("quantity", quantity.into()),
                ("type", or_null("NumberType")),
                ("contains", contains.into()),
            ],
            &["country", "quantity"],
            &["inventory_ids"],
            shared,
        );
        OneOfBuilder::new().item(by_ids).item(by_filter).description(Some(description)).examples([example]).into()
    }

    pub fn nullable_uuid(description: &str) -> RefOr<Schema> {
        uuid().schema_type(SchemaType::from_iter([Type::String, Type::Null])).description(Some(description)).into()
    }

    pub fn nullable_cents(max: i64, description: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
            .minimum(Some(0))
            .maximum(Some(max as f64))
            .description(Some(description))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for CreateReservationBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        selection_schema::selection(
            "`POST /v1/number-reservations`: `inventory_ids` (1 to 20, distinct), or `country` and `quantity` \
             (1 to 20) with `type` and `contains` if wanted, for any numbers that match.",
            20,
            &[],
            serde_json::json!({"inventory_ids": ["5b0f4c1e-8a43-4f0e-9d8e-2f1c7b5d9a10"]}),
        )
    }
}

#[cfg(feature = "ssr")]
impl ToSchema for CreateReservationBody {}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for CreateOrderBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let shared = [
            (
                "endpointId",
                selection_schema::nullable_uuid("An endpoint of this organization and mode to attach every number to"),
            ),
            (
                "totalCostCents",
                selection_schema::nullable_cents(
                    200_000_000_000,
                    "Setup plus the first month of every number, as the buyer saw it: if it is not the current \
                     total, 409 `price_changed` and nothing is bought",
                ),
            ),
        ];
        selection_schema::selection(
            "`POST /v1/number-orders`: `inventory_ids` (1 to 100, distinct), or `country` and `quantity` (1 to \
             100) with `type` and `contains` if wanted; all are bought, or none.",
            100,
            &shared,
            serde_json::json!({"country": "US", "type": "local", "quantity": 5, "totalCostCents": 1075}),
        )
    }
}

#[cfg(feature = "ssr")]
impl ToSchema for CreateOrderBody {}
