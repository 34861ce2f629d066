use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// Defines a string enum whose wire names are fixed, with `FromStr` errors that name the
/// allowed values (the contract's "a 400 naming the allowed values").
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $wire)] #[cfg_attr(feature = "ssr", sqlx(rename = $wire))] $variant),+ }

        // By hand: utoipa's derive does not see the `rename`s through this macro and would
        // document the Rust names (`TollFree`) instead of the wire's (`toll_free`).
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }
        #[cfg(feature = "ssr")]
        impl ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// "`a`, `b` or `c`": for error messages.
            pub fn allowed_values() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} or {}", rest.join(", "), last),
                    _ => names.join(""),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(format!("must be one of {}", Self::allowed_values())),
                }
            }
        }
    };
}

wire_enum!(
    /// The kind of a phone number.
    #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "number_type"))]
    NumberType { Local = "local", Mobile = "mobile", TollFree = "toll_free", National = "national" }
);
wire_enum!(
    /// Whether an owned number routes calls.
    #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "number_status"))]
    NumberStatus { Active = "active", Inactive = "inactive" }
);
wire_enum!(
    /// Live or test data, as in Stripe: a test key never sees live data and the reverse.
    /// (Stored as the boolean `livemode`; the derive is there for the macro's sake.)
    #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
    Mode { Live = "live", Test = "test" }
);
wire_enum!(
    /// What `GET /v1/phone-numbers` lists: the organization's numbers, or the inventory for sale.
    #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
    ListAction { Assigned = "assigned", Available = "available" }
);
wire_enum!(
    /// `DELETE /v1/phone-numbers/{id}?action=release`: keep the record, released.
    #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
    DeleteAction { Release = "release" }
);

wire_enum!(
    /// What happened to a number, or an order (the `type` of an event).
    #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
    EventType {
        PhoneNumberPurchased = "phone_number.purchased",
        PhoneNumberUpdated = "phone_number.updated",
        PhoneNumberReleased = "phone_number.released",
        PhoneNumberDeleted = "phone_number.deleted",
        NumberOrderCompleted = "number_order.completed",
    }
);

impl Mode {
    pub fn is_live(self) -> bool {
        self == Mode::Live
    }
    pub fn from_livemode(livemode: bool) -> Mode {
        if livemode {
            Mode::Live
        } else {
            Mode::Test
        }
    }
}

/// A phone number owned by an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PhoneNumber {
    pub id: Uuid,
    #[cfg_attr(feature = "ssr", schema(example = "+14155550123"))]
    pub e164: String,
    #[cfg_attr(feature = "ssr", schema(example = "US"))]
    pub country: String,
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub status: NumberStatus,
    /// The endpoint calls are routed to; null when none is attached.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub endpoint_id: Option<Uuid>,
    pub allow_inbound: bool,
    pub allow_outbound: bool,
    #[cfg_attr(feature = "ssr", schema(example = "sip:+14155550123@sip.kros.example"))]
    pub sip_uri: String,
    pub organization_id: Uuid,
    pub livemode: bool,
    pub setup_cost_cents: i64,
    pub monthly_cost_cents: i64,
    #[cfg_attr(feature = "ssr", schema(example = "USD"))]
    pub currency: String,
    /// RFC 3339, UTC.
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub updated_at: String,
    /// Null unless the number was released.
    #[cfg_attr(feature = "ssr", schema(format = DateTime, required = true))]
    pub released_at: Option<String>,
    /// The customer's name for the number; "" when it has none. (Absent from numbers recorded
    /// before names existed: read as "".)
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 64, example = "Front desk"))]
    pub friendly_name: String,
    /// Up to 10 distinct tags of `a-z`, `0-9`, `-` and `_`, in the order they were set.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 10, example = json!(["support", "eu"])))]
    pub tags: Vec<String>,
    /// While true, release and delete answer 409 `conflict`.
    #[serde(default)]
    pub deletion_locked: bool,
}

/// How a SIP trunk authenticates to route calls for a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct SipCredentials {
    pub username: String,
    /// Null once the number is released: its password is changed at release and withheld, so
    /// the number's old credentials cannot be used or read again.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub password: Option<String>,
    pub domain: String,
}

/// `GET /phone-numbers/{id}`: the number and its SIP credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PhoneNumberDetails {
    #[serde(flatten)]
    pub number: PhoneNumber,
    pub sip_credentials: SipCredentials,
}

/// A number in the inventory that can be bought.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct InventoryNumber {
    /// The inventory id, to buy it with `inventory_id`.
    pub id: Uuid,
    pub e164: String,
    pub country: String,
    #[serde(rename = "type")]
    pub number_type: NumberType,
    pub setup_cost_cents: i64,
    pub monthly_cost_cents: i64,
    pub currency: String,
}

/// A call-routing endpoint a number can be attached to: where its calls go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Endpoint {
    pub id: Uuid,
    #[cfg_attr(feature = "ssr", schema(example = "Support line"))]
    pub name: String,
    /// The SIP URIs a call is sent to, tried in this order: the next when one does not answer
    /// within `failover_timeout_secs`, or fails (408, 5xx); busy or declined (486, 600, 603)
    /// ends the call. None: the call rings the devices registered with the number's SIP
    /// credentials.
    #[cfg_attr(feature = "ssr", schema(example = json!(["sip:pbx.example.com", "sip:backup.example.com;transport=tcp"])))]
    pub targets: Vec<String>,
    /// How long a target may take to answer at all (even a 100 Trying) before the next is tried.
    #[cfg_attr(feature = "ssr", schema(example = 5, minimum = 1, maximum = 30))]
    pub failover_timeout_secs: i64,
    pub livemode: bool,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "ssr", schema(format = DateTime))]
    pub updated_at: String,
}

/// One routing decision of a call to a number (its page lists the latest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDecision {
    pub decided_at: String,
    /// The caller as the carrier gave it.
    pub caller: String,
    /// `route`, `registered` or `reject`.
    pub decision: String,
    /// The targets, or the refusal's code and reason.
    pub detail: String,
}

/// The list envelope of every list route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// The request's `x-request-id`, also in the response's header.
    #[cfg_attr(feature = "ssr", schema(required = true))]
    pub request_id: Option<String>,
}

/// Who made a change: an API key, a signed-in user, or the operator (the CLI). Written
/// `api_key:<id>`, `user:<id>` or `operator`, in the audit log and in every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Actor {
    ApiKey(Uuid),
    User(Uuid),
    Operator,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Operator => f.write_str("operator"),
        }
    }
}

impl FromStr for Actor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let id = |id: &str| Uuid::parse_str(id).map_err(|_| format!("{text:?} is not an actor: a bad id"));
        match text.split_once(':') {
            Some(("api_key", key)) => Ok(Actor::ApiKey(id(key)?)),
            Some(("user", user)) => Ok(Actor::User(id(user)?)),
            None if text == "operator" => Ok(Actor::Operator),
            _ => Err(format!("{text:?} is not an actor (api_key:<id>, user:<id> or operator)")),
        }
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> String {
        actor.to_string()
    }
}

impl TryFrom<String> for Actor {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// Stored as its text, on either database (a row whose text is no actor fails to decode).
#[cfg(feature = "ssr")]
impl<DB: sqlx::Database> sqlx::Type<DB> for Actor
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

#[cfg(feature = "ssr")]
impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for Actor
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, DB>>::encode(self.to_string(), buf)
    }
}

#[cfg(feature = "ssr")]
impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Actor
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(<String as sqlx::Decode<'r, DB>>::decode(value)?.parse()?)
    }
}

/// What a request whose body is over the limit is told (by either door).
pub const PAYLOAD_TOO_LARGE: &str = "request body is larger than 64 KiB";

/// The contract's stable, machine-readable error codes: what a client (or a page) branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NumberUnavailable,
    PriceChanged,
    Conflict,
    PayloadTooLarge,
    UriTooLong,
    HeadersTooLarge,
    IdempotencyKeyReused,
    RateLimited,
    Unavailable,
    InternalError,
}

impl ErrorCode {
    /// The code as the wire spells it.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationError => "validation_error",
            Unauthorized => "unauthorized",
            Forbidden => "forbidden",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            NumberUnavailable => "number_unavailable",
            PriceChanged => "price_changed",
            Conflict => "conflict",
            PayloadTooLarge => "payload_too_large",
            UriTooLong => "uri_too_long",
            HeadersTooLarge => "headers_too_large",
            IdempotencyKeyReused => "idempotency_key_reused",
            RateLimited => "rate_limited",
            Unavailable => "unavailable",
            InternalError => "internal_error",
        }
    }
}

impl ErrorCode {
    /// The HTTP status the contract answers this code with, on both doors.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            ValidationError => 400,
            Unauthorized => 401,
            Forbidden => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            NumberUnavailable | PriceChanged | Conflict => 409,
            PayloadTooLarge => 413,
            UriTooLong => 414,
            HeadersTooLarge => 431,
            IdempotencyKeyReused => 422,
            RateLimited => 429,
            Unavailable => 503,
            InternalError => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `validation_error`, `number_unavailable`.
    pub code: ErrorCode,
    pub message: String,
    /// The request field the error is about, when there is one (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(nullable = false))]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_type_parses_only_contract_values() {
        assert_eq!("toll_free".parse::<NumberType>(), Ok(NumberType::TollFree));
        let err = "tollfree".parse::<NumberType>().unwrap_err();
        assert_eq!(err, "must be one of local, mobile, toll_free or national");
    }

    #[test]
    fn status_parses_only_contract_values() {
        assert_eq!("inactive".parse::<NumberStatus>(), Ok(NumberStatus::Inactive));
        assert!("Active".parse::<NumberStatus>().is_err());
    }

    #[test]
    fn an_actor_is_written_as_the_events_show_it_and_read_back() {
        let id = Uuid::parse_str("0b6f8c1e-8a43-4f0e-9d8e-2f1c7b5d9a10").unwrap();
        for (actor, text) in [
            (Actor::ApiKey(id), "api_key:0b6f8c1e-8a43-4f0e-9d8e-2f1c7b5d9a10"),
            (Actor::User(id), "user:0b6f8c1e-8a43-4f0e-9d8e-2f1c7b5d9a10"),
            (Actor::Operator, "operator"),
        ] {
            assert_eq!(actor.to_string(), text);
            assert_eq!(text.parse::<Actor>(), Ok(actor));
        }
        for bad in ["", "user:", "user:nope", "robot:1", "operator:1"] {
            assert!(bad.parse::<Actor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn error_codes_are_spelled_on_the_wire_as_their_names_say() {
        use ErrorCode::*;
        for code in [ValidationError, NotFound, NumberUnavailable, PriceChanged, IdempotencyKeyReused, InternalError] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(code.as_str().into()).unwrap(), code);
        }
    }

    #[test]
    fn phone_number_serializes_type_field_as_type() {
        let json = serde_json::to_value(NumberType::TollFree).unwrap();
        assert_eq!(json, "toll_free");
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The dashboard's server functions fail with the same `{code, message, field}` as the REST API,
/// so the page can tell "already sold" from "price changed" without parsing text.
impl leptos::server_fn::error::FromServerFnError for ErrorDetail {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    /// On the server: the request failed before the function's body ran (its arguments, its
    /// body), answered like the REST API's bad input (the app gives the answer its status from
    /// the code). In the browser: the call itself failed (the network, an answer that does not
    /// decode).
    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        let invalid =
            |message: String, field: Option<String>| ErrorDetail { code: ErrorCode::ValidationError, message, field };
        // serde names the field it missed or did not know.
        let named = |message: &str| {
            ["missing field `", "unknown field `"]
                .iter()
                .find_map(|prefix| message.split(prefix).nth(1))
                .and_then(|rest| rest.split('`').next())
                .map(str::to_string)
        };
        match value {
            E::Args(message) => invalid(format!("invalid form fields: {message}"), named(&message)),
            E::MissingArg(name) => invalid(format!("missing field `{name}`"), Some(name)),
            E::Deserialization(message) if message.contains("length limit exceeded") => {
                ErrorDetail { code: ErrorCode::PayloadTooLarge, message: PAYLOAD_TOO_LARGE.into(), field: None }
            }
            E::Deserialization(message) => invalid(format!("the request body cannot be read: {message}"), None),
            #[cfg(feature = "ssr")]
            other => {
                tracing::error!(error = %other, "a server function failed before its body ran");
                ErrorDetail {
                    code: ErrorCode::InternalError,
                    message: "internal error; it has been logged".into(),
                    field: None,
                }
            }
            #[cfg(not(feature = "ssr"))]
            other => ErrorDetail {
                code: ErrorCode::Unavailable,
                message: format!("Could not reach the server: {other}"),
                field: None,
            },
        }
    }
}

/// A price for people: `$1.15`, `£3.00`, `12.50 NGN`.
pub fn format_money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let amount = format!("{}.{:02}", cents.abs() / 100, cents.abs() % 100);
    match currency {
        "USD" => format!("{sign}${amount}"),
        "GBP" => format!("{sign}£{amount}"),
        "EUR" => format!("{sign}€{amount}"),
        other => format!("{sign}{amount} {other}"),
    }
}

/// The numbers an organization owns (not released) of one country, type and currency: how many,
/// and what they cost together each month. The dashboard's summary of its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct OwnedGroup {
    pub country: String,
    pub number_type: NumberType,
    pub currency: String,
    pub count: i64,
    pub monthly_cost_cents: i64,
}

/// A phone number with its human formats (computed on the server; the browser bundle carries no
/// numbering-plan metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Formatted<T> {
    #[serde(flatten)]
    pub item: T,
    /// `(415) 555-0100`
    pub national: String,
    /// `+1 415-555-0100`
    pub international: String,
}

#[cfg(test)]
mod money_tests {
    use super::format_money;

    #[test]
    fn money_is_shown_in_its_currency() {
        assert_eq!(format_money(115, "USD"), "$1.15");
        assert_eq!(format_money(300, "GBP"), "£3.00");
        assert_eq!(format_money(1250, "NGN"), "12.50 NGN");
    }
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), total: self.total, limit: self.limit, offset: self.offset }
    }
}
