//! `GET /v1/openapi.json`: the OpenAPI 3 document, generated from the handlers and types.

use crate::domain::*;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

/// The tenancy headers every route accepts.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct TenancyHeaders {
    /// The organization to act in. With a session JWT: one of the user's organizations (default:
    /// the oldest membership). With an API key: absent or the key's own organization.
    #[param(rename = "x-organization-id")]
    x_organization_id: Option<uuid::Uuid>,
    /// `live` or `test`, for session JWTs (default `live`). An API key's mode is its prefix.
    #[param(rename = "x-kros-mode")]
    x_kros_mode: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kros Numbers API",
        description = "Provision and manage phone numbers. Every error is JSON: \
            `{\"error\": {\"code\", \"message\", \"field\"?}, \"request_id\"}`.",
    ),
    paths(
        super::phone_numbers::list, super::phone_numbers::purchase, super::phone_numbers::get,
        super::phone_numbers::update, super::phone_numbers::delete,
        super::endpoints::create, super::endpoints::list,
    ),
    components(schemas(
        PhoneNumber, PhoneNumberDetails, SipCredentials, InventoryNumber, Endpoint, NumberType, NumberStatus,
        PurchaseBody, UpdateBody, CreateEndpointBody, ErrorBody, ErrorDetail, Page<InventoryNumber>,
    )),
    modifiers(&Security),
    security(("bearer" = []), ("api_key" = [])),
    tags((name = "Phone numbers"), (name = "Endpoints")),
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
        components.add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))));
        openapi.servers = Some(vec![utoipa::openapi::Server::new("/")]);
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
