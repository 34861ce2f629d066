//! Keeps webhook deliveries off private networks (SSRF, OWASP API7): an endpoint's URL must be
//! https, and its host must resolve to public addresses only, checked when the endpoint is
//! saved and again at every delivery (the delivery's client resolves through
//! [`PublicAddressesOnly`] and connects only to what it returned, so a DNS answer that changes
//! in between cannot point it inward). `KROS_WEBHOOK_ALLOW_PRIVATE_URLS` lifts both rules, for
//! development and tests.

use super::WebhookSettings;
use crate::error::AppError;
use crate::network::{is_public, resolve};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

use std::net::{IpAddr, SocketAddr};

const MAX_URL_CHARS: usize = 2048;

/// The URL as sent, if it may receive webhooks: its form first, then (unless allowed) where its
/// host resolves.
pub async fn check(raw: &str, settings: &WebhookSettings) -> Result<Url, AppError> {
    let url = parse(raw, settings.allow_private_urls)?;
    if !settings.allow_private_urls {
        public_addresses(&url).await.map_err(|why| AppError::validation("url", why))?;
    }
    Ok(url)
}

/// The form of a webhook URL: absolute, https (or http when allowed), a host, no credentials,
/// no fragment.
pub fn parse(raw: &str, allow_http: bool) -> Result<Url, AppError> {
    let invalid = |why: &str| AppError::validation("url", format!("url {why}"));
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(invalid(&format!("must be at most {MAX_URL_CHARS} characters")));
    }
    let url = Url::parse(raw).map_err(|e| invalid(&format!("is not a valid absolute URL ({e})")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(invalid("must start with https://")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not hold a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not have a #fragment"));
    }
    Ok(url)
}

/// Where the URL's host resolves, if every address is public; else why not. (When the endpoint
/// is saved; at delivery, [`literal_host_is_public`] and the client's [`PublicAddressesOnly`]
/// check the same, without resolving the name twice.)
pub async fn public_addresses(url: &Url) -> Result<Vec<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match (literal_host(url), url.host()) {
        (Some(ip), _) => vec![SocketAddr::new(ip, port)],
        (None, Some(url::Host::Domain(name))) => resolve(name, port).await?,
        _ => return Err("url must name a host".into()),
    };
    match addresses.iter().find(|a| !is_public(a.ip())) {
        Some(private) => Err(not_public(private.ip())),
        None => Ok(addresses),
    }
}

/// At delivery: a host written as an address must be public (a name is checked by the client's
/// resolver, which is not asked about addresses).
pub fn literal_host_is_public(url: &Url) -> Result<(), String> {
    match literal_host(url) {
        Some(ip) if !is_public(ip) => Err(not_public(ip)),
        _ => Ok(()),
    }
}

fn literal_host(url: &Url) -> Option<IpAddr> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

fn not_public(ip: IpAddr) -> String {
    format!("url resolves to {ip}, a loopback, private, link-local or otherwise non-public address")
}

/// The delivery client's resolver: a host's public addresses, or an error if it has none.
pub struct PublicAddressesOnly;

impl Resolve for PublicAddressesOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let found = resolve(name.as_str(), 0).await?;
            if let Some(private) = found.iter().find(|a| !is_public(a.ip())) {
                return Err(not_public(private.ip()).into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn a_webhook_url_is_https_with_a_host_and_no_credentials() {
        assert!(parse("https://example.com/hooks", false).is_ok());
        for bad in [
            "http://example.com/hooks",
            "ftp://example.com",
            "example.com/hooks",
            "https://user:pass@example.com/",
            "https://example.com/#x",
            "",
        ] {
            let err = parse(bad, false).unwrap_err();
            assert_eq!(err.field(), Some("url"), "{bad}");
        }
        assert!(parse("http://127.0.0.1:9/hooks", true).is_ok());
    }

    #[tokio::test]
    async fn a_url_naming_a_private_address_is_refused() {
        for url in [
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/x",
        ] {
            let url = parse(url, false).unwrap();
            assert!(public_addresses(&url).await.is_err(), "{url}");
        }
    }
}
