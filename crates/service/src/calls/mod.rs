//! Calls: what the SIP server (Kamailio) asks before it routes a call or accepts a device, and
//! the rules on where calls may go. Kamailio asks through the SIP door (`sip_door` in the app)
//! and holds nothing it was not told: a number's digest credentials (cached for a bounded
//! time, dropped when they change), and for each inbound call, where it goes.

pub mod decision_log;
pub mod sip_servers;
pub mod targets;

use super::Context;
use crate::error::AppError;
use kros_domain::{sip, NumberStatus};
use kros_storage::{CallDecisionRecord, InboundRouteRecord};
use md5::{Digest, Md5};

/// How calls are routed (flags or environment, see the app's `cli`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    /// Lets endpoints send calls to loopback, private and link-local addresses
    /// (`KROS_SIP_ALLOW_PRIVATE_TARGETS`): for development and tests only.
    pub allow_private_targets: bool,
    /// The JSON-RPC URLs of the SIP servers (`KROS_SIP_KAMAILIO_RPC`), told of changes.
    pub sip_servers: Vec<url::Url>,
    /// How long the SIP servers cache credentials (`KROS_SIP_CREDENTIALS_TTL`): a notice is
    /// retried this long.
    pub credentials_ttl: std::time::Duration,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            allow_private_targets: false,
            sip_servers: Vec::new(),
            credentials_ttl: std::time::Duration::from_secs(60),
        }
    }
}

/// A SIP user name as the SIP server presents it, at most this long (ours are 16 characters).
const MAX_USERNAME_CHARS: usize = 64;

/// What a device presenting a SIP user name may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipAccount {
    /// The number's digest credentials: HA1 = MD5(user:realm:password), so that the password
    /// never leaves the service; the number it registers and calls as; whether it may call out.
    Usable { ha1: String, number: String, may_call_out: bool },
    /// No such user, or its number is released or inactive: its credentials do not work.
    Refused,
}

/// The account behind a SIP user name.
pub async fn sip_account(ctx: &Context, username: &str) -> Result<SipAccount, AppError> {
    if username.is_empty() || username.chars().count() > MAX_USERNAME_CHARS {
        return Ok(SipAccount::Refused);
    }
    let Some(account) = ctx.store.sip_account(username).await? else {
        return Ok(SipAccount::Refused);
    };
    if account.released_at.is_some() || account.status != NumberStatus::Active {
        return Ok(SipAccount::Refused);
    }
    let password = ctx.secret_cipher.open(&account.sip_password)?;
    Ok(SipAccount::Usable {
        ha1: digest_ha1(&account.sip_username, &ctx.sip_domain, &password),
        number: account.e164,
        // Test-mode numbers are fictional: they never reach the carrier.
        may_call_out: account.livemode && account.allow_outbound,
    })
}

/// RFC 2617's HA1, lower-case hex.
pub fn digest_ha1(username: &str, realm: &str, password: &str) -> String {
    hex::encode(Md5::digest(format!("{username}:{realm}:{password}").as_bytes()))
}

/// Which carrier trunk a call came in on: the live carriers reach live numbers, the test trunk
/// reaches test-mode numbers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trunk {
    Live,
    Test,
}

/// Where an inbound call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundDecision {
    /// To these URIs in order (each the endpoint's target with the dialled number as its user,
    /// unless the target names a user of its own); each has `timeout_ms` to answer at all.
    Route { number: String, targets: Vec<String>, timeout_ms: u64 },
    /// To the devices registered as the number (none: 480).
    RegisteredDevices { number: String, aor: String },
    /// Refused with this SIP status and reason phrase.
    Reject { code: u16, reason: &'static str },
}

/// Decides an inbound call to `dialled` (the request URI, or its user part) from `caller` (the
/// From URI); a decision about one of the numbers is recorded for its page.
pub async fn inbound(ctx: &Context, trunk: Trunk, dialled: &str, caller: &str) -> Result<InboundDecision, AppError> {
    use InboundDecision::Reject;
    let Some(e164) = sip::dialled_digits(dialled) else {
        return Ok(Reject { code: 404, reason: "Not Found: the dialled number is not a phone number" });
    };
    let Some(route) = ctx.store.inbound_route(trunk == Trunk::Live, &e164).await? else {
        return Ok(Reject { code: 404, reason: "Not Found: no such number" });
    };
    let decision = decide(ctx, &route, e164);
    ctx.call_log.record(CallDecisionRecord {
        id: uuid::Uuid::new_v4(),
        number_id: route.number_id,
        organization_id: route.organization_id,
        livemode: route.livemode,
        decided_at: kros_storage::now(),
        caller: caller_name(caller),
        decision: decision.name().into(),
        detail: decision.detail(),
    });
    Ok(decision)
}

/// The decision for an owned number.
fn decide(ctx: &Context, route: &InboundRouteRecord, e164: String) -> InboundDecision {
    use InboundDecision::Reject;
    if route.status != NumberStatus::Active {
        return Reject { code: 480, reason: "Temporarily Unavailable: this number is inactive" };
    }
    if !route.allow_inbound {
        return Reject { code: 403, reason: "Forbidden: this number does not take inbound calls" };
    }
    let targets: Vec<String> = route
        .targets
        .as_ref()
        .map(|t| t.0.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| call_uri(t, &e164, &ctx.calls))
        .collect();
    if targets.is_empty() {
        let aor = format!("sip:{e164}@{}", ctx.sip_domain);
        return InboundDecision::RegisteredDevices { number: e164, aor };
    }
    let timeout_secs = route.failover_timeout_secs.unwrap_or(sip::DEFAULT_FAILOVER_TIMEOUT_SECS);
    InboundDecision::Route { number: e164, targets, timeout_ms: timeout_secs as u64 * 1000 }
}

impl InboundDecision {
    fn name(&self) -> &'static str {
        match self {
            InboundDecision::Route { .. } => "route",
            InboundDecision::RegisteredDevices { .. } => "registered",
            InboundDecision::Reject { .. } => "reject",
        }
    }

    fn detail(&self) -> String {
        match self {
            InboundDecision::Route { targets, .. } => targets.join(", then "),
            InboundDecision::RegisteredDevices { .. } => "the registered devices".into(),
            InboundDecision::Reject { code, reason } => format!("{code} {reason}"),
        }
    }
}

/// The caller as a page shows it: the From URI's user (a number, usually), or the URI itself.
fn caller_name(from: &str) -> String {
    let name = match from.parse::<sip_uri::Uri>() {
        Ok(sip_uri::Uri::Sip(uri)) => uri.user().map(str::to_string).unwrap_or_else(|| from.to_string()),
        _ => from.to_string(),
    };
    let name: String = name.chars().filter(|c| !c.is_control()).take(128).collect();
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

/// The number's latest routing decisions (at most 10), newest first.
pub async fn latest_decisions(
    ctx: &Context,
    tenant: &super::Tenant,
    number_id: uuid::Uuid,
) -> Result<Vec<kros_domain::CallDecision>, AppError> {
    let rows = ctx.store.call_decisions(tenant.scope(), number_id, 10).await?;
    Ok(rows
        .into_iter()
        .map(|row| kros_domain::CallDecision {
            decided_at: kros_storage::format_time(row.decided_at),
            caller: row.caller,
            decision: row.decision,
            detail: row.detail,
        })
        .collect())
}

/// Where a number's calls go now, in words (the dashboard's number page says it), given the
/// endpoint it is attached to (the page has read it already).
pub async fn where_calls_go(
    ctx: &Context,
    number: &kros_domain::PhoneNumber,
    endpoint: Option<&kros_domain::Endpoint>,
) -> String {
    if number.released_at.is_some() {
        return "Released: callers hear 404 Not Found.".into();
    }
    if number.status != NumberStatus::Active {
        return "Inactive: callers hear 480 Temporarily Unavailable.".into();
    }
    if !number.allow_inbound {
        return "Inbound calls are off: callers hear 403 Forbidden.".into();
    }
    match endpoint.filter(|e| Some(e.id) == number.endpoint_id && !e.targets.is_empty()) {
        Some(endpoint) => format!(
            "Calls ring {} (each has {} s to answer before the next is tried).",
            endpoint.targets.join(", then "),
            endpoint.failover_timeout_secs
        ),
        None => match ctx.sip_servers.registered_devices(&number.e164).await {
            Some(1) => "Calls ring the devices registered with these credentials: 1 now.".into(),
            Some(n) => format!("Calls ring the devices registered with these credentials: {n} now."),
            None => "Calls ring the devices registered with these credentials.".into(),
        },
    }
}

/// The URI a call to `e164` is sent to for a stored target. A target whose address is no longer
/// allowed (the operator stopped allowing private ones) is skipped.
fn call_uri(target: &str, e164: &str, settings: &CallSettings) -> Option<String> {
    let parsed = sip::SipTarget::parse("target", target).ok()?;
    if let (false, sip::TargetHost::Address(ip)) = (settings.allow_private_targets, parsed.host()) {
        if !crate::network::is_public(ip) {
            tracing::warn!(target, "a stored target names a non-public address: skipped");
            return None;
        }
    }
    Some(parsed.with_user_if_none(e164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ha1_is_rfc_2617s() {
        // RFC 2617, 3.5: Mufasa, testrealm@host.com, Circle Of Life.
        assert_eq!(digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life"), "939e7578ed9e3c518a452acee763bce9");
    }

    #[test]
    fn a_target_carries_the_dialled_number_unless_it_names_a_user() {
        let settings = CallSettings { allow_private_targets: true, ..CallSettings::default() };
        let uri = |t: &str| call_uri(t, "+14155550100", &settings);
        assert_eq!(uri("sip:pbx.example.com").as_deref(), Some("sip:+14155550100@pbx.example.com"));
        assert_eq!(
            uri("sip:10.0.0.1:5070;transport=tcp").as_deref(),
            Some("sip:+14155550100@10.0.0.1:5070;transport=tcp")
        );
        assert_eq!(uri("sip:support@pbx.example.com").as_deref(), Some("sip:support@pbx.example.com"));
        let strict = CallSettings::default();
        assert_eq!(call_uri("sip:10.0.0.1", "+14155550100", &strict), None);
    }
}
