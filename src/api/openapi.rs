//! `GET /v1/openapi.json`: the OpenAPI 3.1 document. The routes' entries come from the router
//! itself ([`super::v1`], with utoipa-axum), so a route cannot be served undocumented; the
//! schemas come from the types the handlers read and write. What OpenAPI cannot state (a
//! parameter required by another's value, a phone number that must be real) is in the
//! descriptions; `tests/openapi/` holds the snapshot and the checks that keep it exact.

use crate::domain::parse::{CountryCode, E164};
use crate::domain::*;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

/// The tenancy headers every route accepts.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct TenancyHeaders {
    /// The organization to act in. With a session JWT: one of the user's organizations (default:
    /// the oldest membership). With an API key: absent or the key's own organization (another
    /// one is a 403).
    #[param(rename = "x-organization-id", nullable = false)]
    x_organization_id: Option<uuid::Uuid>,
    /// For session JWTs: which data to act on (default `live`). With an API key: absent or the
    /// key's own mode (its prefix; the other mode is a 403).
    #[param(rename = "x-kros-mode", nullable = false)]
    x_kros_mode: Option<Mode>,
}

/// The purchase's own header.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyHeader {
    /// A retry with the same key and body answers the first response (with
    /// `Idempotent-Replayed: true`) and buys nothing; the same key with another body is a 422.
    /// Keys are kept 24 hours.
    #[param(rename = "Idempotency-Key", nullable = false, min_length = 1, max_length = 255, pattern = r"^[!-~]+$")]
    idempotency_key: Option<String>,
}

/// What any authenticated route can answer besides its own outcomes.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    /// `validation_error`: a parameter, header or body field is not valid; `field` names it.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// `unauthorized`: no credential, or one that is unknown, revoked or expired.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// `forbidden`: `x-organization-id` or `x-kros-mode` names what this credential cannot act on.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// `uri_too_long`: the URL (with its query) is over 8 KiB.
    #[response(status = 414)]
    UriTooLong(ErrorBody),
    /// `headers_too_large`: more than 100 headers, or over 32 KiB of them.
    #[response(status = 431)]
    HeadersTooLarge(ErrorBody),
    /// `rate_limited`: too many requests with this credential, or too many failed
    /// authentications from this address.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(ErrorBody),
    /// `unavailable`: the database cannot serve now; retry shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The refusals of routes that read a body.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyRefusals {
    /// `payload_too_large`: bodies are at most 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
}

/// The refusal of routes about one number.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum NumberNotFound {
    /// `not_found`: no such number in this organization and mode.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// `GET /v1/phone-numbers` answers one of two pages, by `action`: `anyOf` them (not `oneOf`:
/// an empty page is both).
pub struct NumberListPage;

/// The two pages' schema names (utoipa names a generic's instances at derive sites only).
const ASSIGNED_PAGE: &str = "Page_PhoneNumber";
const AVAILABLE_PAGE: &str = "Page_InventoryNumber";

impl PartialSchema for NumberListPage {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(utoipa::openapi::Ref::from_schema_name(ASSIGNED_PAGE))
            .item(utoipa::openapi::Ref::from_schema_name(AVAILABLE_PAGE))
            .description(Some(
                "`action=assigned`: a page of the organization's `PhoneNumber`s; \
                 `action=available`: a page of `InventoryNumber`s for sale",
            ))
            .into()
    }
}

impl ToSchema for NumberListPage {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ASSIGNED_PAGE.into(), <Page<PhoneNumber>>::schema()));
        schemas.push((AVAILABLE_PAGE.into(), <Page<InventoryNumber>>::schema()));
        for (name, schema) in
            [(PhoneNumber::name(), PhoneNumber::schema()), (InventoryNumber::name(), InventoryNumber::schema())]
        {
            schemas.push((name.into(), schema));
        }
        <PhoneNumber as ToSchema>::schemas(schemas);
        <InventoryNumber as ToSchema>::schemas(schemas);
    }
}

/// Declares a list route's page of `$item`, named `Page_<item>`, with its items as references
/// to `$item` (utoipa would inline them at the route).
macro_rules! page_of {
    ($page:ident, $item:ty) => {
        pub struct $page;

        impl PartialSchema for $page {
            fn schema() -> RefOr<Schema> {
                <Page<$item>>::schema()
            }
        }

        impl ToSchema for $page {
            fn name() -> std::borrow::Cow<'static, str> {
                format!("Page_{}", <$item as ToSchema>::name()).into()
            }
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$item as ToSchema>::name().into(), <$item as PartialSchema>::schema()));
                <$item as ToSchema>::schemas(schemas);
            }
        }
    };
}

page_of!(EndpointPage, Endpoint);
page_of!(EventPage, Event);
page_of!(WebhookEndpointPage, WebhookEndpoint);
page_of!(DeliveryAttemptPage, DeliveryAttempt);
page_of!(ReservationPage, Reservation);
page_of!(OrderPage, NumberOrder);

/// The refusal of routes about one order.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum OrderNotFound {
    /// `not_found`: no such order in this organization and mode.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// The refusal of routes about one reservation.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ReservationNotFound {
    /// `not_found`: no such reservation in this organization and mode (released, or expired over a
    /// day ago).
    #[response(status = 404)]
    NotFound(ErrorBody),
}

/// The refusal of routes about one webhook endpoint.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum EndpointNotFound {
    /// `not_found`: no such endpoint in this organization and mode.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum WebhookEndpointNotFound {
    /// `not_found`: no such webhook endpoint in this organization and mode.
    #[response(status = 404)]
    NotFound(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kros Numbers API",
        description = "Provision and manage phone numbers. Every error, from every route, is JSON: \
            `{\"error\": {\"code\", \"message\", \"field\"?}, \"request_id\"}`. Beyond each route's own \
            answers: a URL over 8 KiB is `414 uri_too_long`, more than 100 headers or over 32 KiB of them \
            `431 headers_too_large`, a method a path does not serve `405 method_not_allowed`, an unknown \
            path under /v1 `404 not_found`.",
    ),
    components(schemas(CountryCode, E164, ListAction, DeleteAction, Mode)),
    modifiers(&Security),
    security(("bearer" = []), ("api_key" = [])),
    tags(
        (name = "Phone numbers", description = "Search the inventory, buy, configure and release numbers"),
        (name = "Endpoints", description = "Where numbers route their calls"),
        (name = "Orders", description = "Many numbers bought in one transaction: all of them, or none"),
        (name = "Reservations", description = "Numbers held for the organization while it decides: nobody \
            else can buy them until the hold expires"),
        (name = "Events", description = "What happened to the organization's numbers: purchases, changes, \
            releases and deletes, each written with the change itself"),
        (name = "Webhooks", description = "Events sent as they happen, signed as Standard Webhooks \
            (`webhook-id`, `webhook-timestamp`, `webhook-signature`: verify with the `standardwebhooks` \
            libraries), retried for about a day, at least once: de-duplicate by `webhook-id`"),
    ),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key (`kros_live_...` / `kros_test_...`) or a Supabase Auth session JWT"))
                    .build(),
            ),
        );
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))));
        openapi.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    }
}

/// The whole document: the routes' entries (`v1`, from the router, served under `/v1`) and the
/// shared parts above.
pub fn document(v1: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ApiDoc::openapi().nest("/v1", v1)
}
