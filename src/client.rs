//! Who a request comes from, as both doors and the server's guards read it: the client's address
//! (for throttles) and the dashboard's own origin (for cookies and the cross-site refusal).

use crate::error::AppError;
use axum::http::{header, HeaderMap, HeaderName};

/// The dashboard's own origin: `KROS_PUBLIC_URL` when set (its scheme, host and port), else
/// what the request's `Host` says it is.
#[derive(Debug, Clone, Default)]
pub struct PublicOrigin(Option<String>);

impl PublicOrigin {
    /// From `KROS_PUBLIC_URL` (`https://numbers.example.com`, a trailing path is ignored).
    pub fn parse(url: Option<&str>) -> Result<PublicOrigin, AppError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return Ok(PublicOrigin(None)) };
        let uri: axum::http::Uri =
            url.parse().map_err(|_| AppError::config(format!("KROS_PUBLIC_URL is not a URL: {url:?}")))?;
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme @ ("http" | "https")), Some(authority)) => {
                Ok(PublicOrigin(Some(format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))))
            }
            _ => Err(AppError::config(format!("KROS_PUBLIC_URL must be http(s)://host[:port], got {url:?}"))),
        }
    }

    /// Cookies only over TLS when the public URL is https.
    pub fn is_https(&self) -> bool {
        self.0.as_deref().is_some_and(|o| o.starts_with("https://"))
    }

    pub fn admits(&self, origin: &str, headers: &HeaderMap) -> bool {
        match &self.0 {
            Some(public) => origin.eq_ignore_ascii_case(public),
            None => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
                !host.is_empty()
                    && [format!("http://{host}"), format!("https://{host}")]
                        .iter()
                        .any(|o| origin.eq_ignore_ascii_case(o))
            }
        }
    }
}

/// The client's address, for throttling: the peer's IP, or, behind a proxy that says who the
/// client is (`KROS_CLIENT_IP_HEADER`, e.g. `x-forwarded-for`), the address the proxy appended
/// last (the only one it vouches for).
pub fn client_address(
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    proxy_header: Option<&HeaderName>,
) -> String {
    let from_proxy = proxy_header
        .and_then(|name| headers.get_all(name).iter().next_back())
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok());
    let peer = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    from_proxy.or(peer).map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".into())
}
