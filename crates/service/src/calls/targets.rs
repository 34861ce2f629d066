//! Keeps customers' calls off the operator's networks: an endpoint's targets must name public
//! hosts (an address, or a name that resolves to public addresses only), checked when they are
//! saved, like webhook URLs. `KROS_SIP_ALLOW_PRIVATE_TARGETS` lifts the rule.

use super::CallSettings;
use crate::error::AppError;
use crate::network::{is_public, resolve};
use kros_domain::sip::{SipTarget, TargetHost};

/// Refuses the first target whose host is not public (unless the operator allows them).
pub async fn check_public(field: &str, targets: &[SipTarget], settings: &CallSettings) -> Result<(), AppError> {
    if settings.allow_private_targets {
        return Ok(());
    }
    for (i, target) in targets.iter().enumerate() {
        let refused = |why: String| AppError::validation(field, format!("{field}[{i}] ({target}): {why}"));
        let addresses = match target.host() {
            TargetHost::Address(ip) => vec![ip],
            TargetHost::Name(name) => {
                resolve(name, target.port()).await.map_err(refused)?.into_iter().map(|a| a.ip()).collect()
            }
        };
        if let Some(ip) = addresses.into_iter().find(|ip| !is_public(*ip)) {
            return Err(refused(format!(
                "resolves to {ip}, a loopback, private, link-local or otherwise non-public address"
            )));
        }
    }
    Ok(())
}
