//! Rows as both databases return them, in native Rust types (decoded by sqlx itself).

use chrono::SubsecRound;
use kros_domain::{NumberStatus, NumberType};
use uuid::Uuid;

/// A point in time, UTC. PostgreSQL keeps microseconds; so does every value made here.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time, to the microsecond (what PostgreSQL's `timestamptz` keeps, so a value
/// written and read back is the value that was answered).
pub fn now() -> Timestamp {
    chrono::Utc::now().trunc_subsecs(6)
}

/// A time as the API shows it: RFC 3339, UTC, always six decimals (so it sorts as text too).
pub fn format_time(t: Timestamp) -> String {
    // The same text as the format "%Y-%m-%dT%H:%M:%S%.6fZ", without parsing a format string.
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    /// Argon2id; none for users who sign in elsewhere (Supabase).
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
}

/// A user as the dashboard shows them: their email and their organizations, oldest membership
/// first. Read in one query (the layout of every signed-in page needs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub email: String,
    pub organizations: Vec<OrganizationRecord>,
}

/// One row of the account query: the user, joined to one membership (none: no organization).
#[derive(Debug)]
pub struct AccountRow {
    pub email: String,
    pub organization_id: Option<Uuid>,
    pub organization_name: Option<String>,
    pub organization_created_at: Option<Timestamp>,
}

impl AccountRecord {
    /// The account from its rows (in membership order); `None` when there is no such user.
    pub fn from_rows(rows: Vec<AccountRow>) -> Option<Self> {
        let email = rows.first()?.email.clone();
        let organizations = rows
            .into_iter()
            .filter_map(|row| {
                Some(OrganizationRecord {
                    id: row.organization_id?,
                    name: row.organization_name?,
                    created_at: row.organization_created_at?,
                })
            })
            .collect();
        Some(AccountRecord { email, organizations })
    }
}

/// A dashboard session: a built-in account's (live while unrevoked and unexpired), or a
/// Supabase session signed out here (kept revoked until its tokens would have expired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub livemode: bool,
    pub name: String,
    pub public_id: String,
    /// HMAC-SHA256 of the secret, hex.
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

record_with_page_row! {
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
    pub struct InventoryRecord, paged as InventoryPageRow {
        pub id: Uuid,
        pub livemode: bool,
        pub e164: String,
        pub country: String,
        pub number_type: NumberType,
        pub setup_cost_cents: i64,
        pub monthly_cost_cents: i64,
        pub currency: String,
        pub available: bool,
        pub created_at: Timestamp,
        /// The organization holding the number (a reservation) until `held_until`; a hold in the
        /// past is no hold.
        pub held_by: Option<Uuid>,
        pub held_until: Option<Timestamp>,
    }
}

impl InventoryRecord {
    /// Whether `organization` may buy or hold the number now: it is for sale, and not held by
    /// anyone else.
    pub fn open_to(&self, organization: Uuid, at: Timestamp) -> bool {
        self.available && !self.held_by_other_than(organization, at)
    }

    pub fn held_by_other_than(&self, organization: Uuid, at: Timestamp) -> bool {
        self.held_until.is_some_and(|until| until > at) && self.held_by != Some(organization)
    }
}

record_with_page_row! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct NumberRecord, paged as NumberPageRow {
        pub id: Uuid,
        pub organization_id: Uuid,
        pub inventory_id: Uuid,
        pub livemode: bool,
        pub e164: String,
        pub country: String,
        pub number_type: NumberType,
        pub status: NumberStatus,
        pub endpoint_id: Option<Uuid>,
        pub allow_inbound: bool,
        pub allow_outbound: bool,
        pub sip_username: String,
        pub sip_password: String,
        pub setup_cost_cents: i64,
        pub monthly_cost_cents: i64,
        pub currency: String,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
        pub released_at: Option<Timestamp>,
        /// "" when the number has no name.
        pub friendly_name: String,
        /// Distinct, in the order they were given.
        pub tags: sqlx::types::Json<Vec<String>>,
        /// While true, release and delete are refused.
        pub deletion_locked: bool,
    }
}

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "audit_action", rename_all = "snake_case")]
pub enum AuditAction {
    Purchase,
    Update,
    Release,
    Delete,
    /// A bulk order completed (its entry names no single number).
    Order,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Purchase => "purchase",
            AuditAction::Update => "update",
            AuditAction::Release => "release",
            AuditAction::Delete => "delete",
            AuditAction::Order => "order",
        }
    }
}

record_with_page_row! {
    /// One entry of the append-only audit log; the states are the number as the API showed it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AuditRecord, paged as AuditPageRow {
        pub id: Uuid,
        pub organization_id: Uuid,
        pub livemode: bool,
        /// None for an order's entry.
        pub phone_number_id: Option<Uuid>,
        pub action: AuditAction,
            pub actor: kros_domain::Actor,
        pub before_state: Option<sqlx::types::Json<serde_json::Value>>,
        pub after_state: Option<sqlx::types::Json<serde_json::Value>>,
        pub created_at: Timestamp,
    }
}

/// An Idempotency-Key record, with its age judged by the database's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    /// Older than [`super::KeyAges::keep`].
    pub expired: bool,
    /// Older than [`super::KeyAges::stale`].
    pub stale: bool,
}

/// `action=available`: what to search for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryFilter {
    pub livemode: bool,
    /// Who is looking: numbers another organization holds are left out.
    pub viewer: Uuid,
    pub country: String,
    pub number_type: Option<NumberType>,
    /// Digits the E.164 must contain.
    pub contains: Option<String>,
}

/// `action=assigned`: which of the scope's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssignedFilter {
    pub country: Option<String>,
    pub number_type: Option<NumberType>,
    /// A tag the number must carry.
    pub tag: Option<String>,
    /// Digits the E.164 must contain, or (for other text) a part of the friendly name, any case.
    pub search: Option<NumberSearch>,
}

impl AssignedFilter {
    /// No filter: every number of the scope that is not released.
    pub fn is_everything(&self) -> bool {
        self.country.is_none() && self.number_type.is_none() && self.tag.is_none() && self.search.is_none()
    }

    /// The search as two parameters, digits and a name part (the one not asked for is none).
    pub fn search_parts(&self) -> (Option<&str>, Option<&str>) {
        match &self.search {
            Some(NumberSearch::Digits(digits)) => (Some(digits.as_str()), None),
            Some(NumberSearch::NamePart(part)) => (None, Some(part.as_str())),
            None => (None, None),
        }
    }
}

/// `?q=`: what to look for in the scope's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberSearch {
    Digits(String),
    /// Lower-cased, with `%`, `_` and `\` escaped by a backslash (for `LIKE ... ESCAPE`).
    NamePart(String),
}

/// A row of a page, with the total its filter matches (one statement answers both).
#[derive(Debug)]
pub struct WithTotal<T> {
    pub row: T,
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_with_six_decimals_in_utc() {
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&chrono::Utc);
        assert_eq!(format_time(at("2026-12-03T17:27:00Z")), "2026-12-03T17:27:00.000000Z");
        assert_eq!(format_time(at("2026-12-03T18:27:00.5+01:00")), "2026-12-03T17:27:00.500000Z");
        // Beyond the microsecond: cut, not rounded (as `now()` keeps it).
        assert_eq!(format_time(at("2026-12-03T17:27:00.123456789Z")), "2026-12-03T17:27:00.123456Z");
    }
}
