//! SIP input, parsed by a SIP URI parser (`sip-uri`, RFC 3261 and RFC 3966): the call targets a
//! customer gives an endpoint, and the dialled number a carrier sends. Server-only.

use crate::parse::Invalid;
use sip_uri::{Host, Scheme, SipUri, Uri};
use std::fmt;
use std::net::IpAddr;

/// How many targets an endpoint may have.
pub const MAX_TARGETS: usize = 5;
/// The longest target, in characters.
const MAX_TARGET_CHARS: usize = 256;

/// Where a call may be sent: a `sip:` or `sips:` URI with a host (a name or an address), an
/// optional user and port, and at most a `;transport=` of `udp`, `tcp` or `tls`. Nothing else:
/// no password, no other parameter, no headers (a target is an address, not a message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipTarget(SipUri);

/// A target's host, as the address guard sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost<'a> {
    Address(IpAddr),
    Name(&'a str),
}

impl SipTarget {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        let invalid = |why: &str| Invalid::new(field, format!("{field}: {raw:?} {why}"));
        let raw = raw.trim();
        if raw.chars().count() > MAX_TARGET_CHARS {
            return Err(invalid(&format!("is longer than {MAX_TARGET_CHARS} characters")));
        }
        let uri: SipUri = raw.parse().map_err(|e| invalid(&format!("is not a sip: or sips: URI ({e})")))?;
        if uri.password().is_some() {
            return Err(invalid("must not hold a password"));
        }
        if !uri.headers().is_empty() || uri.fragment().is_some() {
            return Err(invalid("must not carry headers"));
        }
        if uri.port() == Some(0) {
            return Err(invalid("has port 0"));
        }
        for (name, value) in uri.params() {
            let transport = value.as_deref().map(str::to_ascii_lowercase);
            match (name.to_ascii_lowercase().as_str(), transport.as_deref()) {
                ("transport", Some("udp" | "tcp" | "tls")) => {}
                ("transport", _) => return Err(invalid("has a transport other than udp, tcp or tls")),
                (other, _) => return Err(invalid(&format!("has a parameter ;{other} (only ;transport= is allowed)"))),
            }
        }
        if uri.scheme() == Scheme::Sips && uri.param("transport").is_some_and(|t| t.as_deref() == Some("udp")) {
            return Err(invalid("is sips: (TLS) with transport=udp"));
        }
        if matches!(uri.host(), Host::Hostname(name) if name.is_empty()) {
            return Err(invalid("has no host"));
        }
        Ok(SipTarget(uri))
    }

    pub fn host(&self) -> TargetHost<'_> {
        match self.0.host() {
            Host::IPv4(ip) => TargetHost::Address(IpAddr::V4(*ip)),
            Host::IPv6(ip) => TargetHost::Address(IpAddr::V6(*ip)),
            Host::Hostname(name) => TargetHost::Name(name),
            _ => TargetHost::Name(""),
        }
    }

    /// The target with `user` as its user part, unless it names one of its own.
    pub fn with_user_if_none(&self, user: &str) -> SipTarget {
        match self.0.user() {
            Some(_) => self.clone(),
            None => SipTarget(self.0.clone().with_user(user)),
        }
    }

    /// The port calls go to: the URI's, or the scheme's default.
    pub fn port(&self) -> u16 {
        self.0.port().unwrap_or(if self.0.scheme() == Scheme::Sips { 5061 } else { 5060 })
    }
}

/// The target as stored and shown: the parser's canonical form (scheme and host lower case).
impl fmt::Display for SipTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        match text.split_once('@') {
            Some((user, rest)) => write!(f, "{user}@{}", lower_host(rest)),
            None => f.write_str(&lower_host(&text)),
        }
    }
}

/// Lower-cases what precedes the parameters (scheme, host and port) and the transport's value.
fn lower_host(text: &str) -> String {
    match text.split_once(';') {
        Some((host, params)) => format!("{};{}", host.to_ascii_lowercase(), params.to_ascii_lowercase()),
        None => text.to_ascii_lowercase(),
    }
}

/// An endpoint's targets, tried in this order: 0 to [`MAX_TARGETS`], none twice.
pub fn parse_targets(field: &str, raw: &[String]) -> Result<Vec<SipTarget>, Invalid> {
    if raw.len() > MAX_TARGETS {
        return Err(Invalid::new(field, format!("{field} must hold at most {MAX_TARGETS} SIP URIs")));
    }
    let targets = raw.iter().map(|t| SipTarget::parse(field, t)).collect::<Result<Vec<_>, _>>()?;
    let texts: Vec<String> = targets.iter().map(ToString::to_string).collect();
    if let Some((i, text)) = texts.iter().enumerate().find(|(i, t)| texts[..*i].contains(t)) {
        return Err(Invalid::new(field, format!("{field}[{i}] repeats {text}")));
    }
    Ok(targets)
}

/// How long a target may take to answer at all before the next is tried.
pub const FAILOVER_TIMEOUT_SECS: std::ops::RangeInclusive<i64> = 1..=30;
pub const DEFAULT_FAILOVER_TIMEOUT_SECS: i64 = 5;

pub fn parse_failover_timeout(field: &str, secs: i64) -> Result<i64, Invalid> {
    if FAILOVER_TIMEOUT_SECS.contains(&secs) {
        Ok(secs)
    } else {
        let (low, high) = (FAILOVER_TIMEOUT_SECS.start(), FAILOVER_TIMEOUT_SECS.end());
        Err(Invalid::new(field, format!("{field} must be a whole number of seconds from {low} to {high}")))
    }
}

/// The number a call is for, as a carrier sends it: a request URI (`sip:+14155550100@host`,
/// `sip:14155550100@host;user=phone`, `tel:+14155550100`) or its user part alone, with or
/// without the `+`. `None` when it holds no number (letters, a `tel:` with a local number).
pub fn dialled_digits(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let user = match raw.parse::<Uri>() {
        Ok(Uri::Sip(uri)) => uri.user()?.to_string(),
        Ok(Uri::Tel(tel)) if tel.is_global() => tel.number().to_string(),
        Ok(_) => return None,
        Err(_) if !raw.contains(':') => raw.to_string(),
        Err(_) => return None,
    };
    // Visual separators are allowed in a telephone-subscriber (RFC 3966): - . ( ).
    let digits: String = user.chars().filter(|c| !matches!(c, '-' | '.' | '(' | ')')).collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    (!digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("+{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(raw: &str) -> Result<String, String> {
        SipTarget::parse("targets", raw).map(|t| t.to_string()).map_err(|e| e.message)
    }

    #[test]
    fn targets_are_sip_or_sips_uris_with_only_a_transport() {
        assert_eq!(target("sip:pbx.example.com").unwrap(), "sip:pbx.example.com");
        assert_eq!(target("SIP:PBX.Example.com:5070;Transport=TCP").unwrap(), "sip:pbx.example.com:5070;transport=tcp");
        assert_eq!(target("sips:support@pbx.example.com").unwrap(), "sips:support@pbx.example.com");
        assert_eq!(target("sip:[2001:db8::1]:5060;transport=udp").unwrap(), "sip:[2001:db8::1]:5060;transport=udp");
        assert_eq!(target(" sip:203.0.113.9 ").unwrap(), "sip:203.0.113.9");
        for bad in [
            "http://pbx.example.com",
            "pbx.example.com",
            "sip:",
            "sip:user:secret@pbx.example.com",
            "sip:pbx.example.com;transport=sctp",
            "sip:pbx.example.com;lr",
            "sip:pbx.example.com?subject=x",
            "sips:pbx.example.com;transport=udp",
            "sip:pbx.example.com:0",
            "sip:pbx.example.com:70000",
            "tel:+14155550100",
        ] {
            assert!(target(bad).is_err(), "{bad} is refused");
        }
        assert!(target(&format!("sip:{}.example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn a_list_holds_at_most_five_distinct_targets() {
        let list = |n: usize| (0..n).map(|i| format!("sip:pbx{i}.example.com")).collect::<Vec<_>>();
        assert_eq!(parse_targets("targets", &list(5)).unwrap().len(), 5);
        assert!(parse_targets("targets", &list(6)).is_err());
        assert!(parse_targets("targets", &[]).unwrap().is_empty());
        let twice = ["sip:a.example.com".to_string(), "SIP:A.example.com".to_string()];
        assert_eq!(parse_targets("targets", &twice).unwrap_err().message, "targets[1] repeats sip:a.example.com");
    }

    #[test]
    fn the_dialled_number_is_read_with_or_without_plus_and_from_tel_uris() {
        for raw in [
            "+14155550100",
            "14155550100",
            "sip:+14155550100@carrier.example.com",
            "sip:14155550100@10.0.0.1:5060;user=phone",
            "tel:+1-415-555-0100",
        ] {
            assert_eq!(dialled_digits(raw).as_deref(), Some("+14155550100"), "{raw}");
        }
        for raw in
            ["sip:alice@example.com", "tel:5550100;phone-context=example.com", "", "+", "sip:@x", "1234567890123456"]
        {
            assert_eq!(dialled_digits(raw), None, "{raw}");
        }
    }
}
