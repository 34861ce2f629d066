//! What counts as a public address: the rule that keeps customers' webhooks and calls off the
//! operator's own networks (loopback, private, link-local, shared and reserved ranges).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// An address on the public internet: not loopback, private, link-local (cloud metadata
/// services live there), shared (carrier NAT), unspecified, broadcast, multicast, documentation,
/// benchmarking or reserved, nor an IPv6 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking (RFC 2544)
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let nat64 = ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    if nat64 {
        let [.., a, b, c, d] = ip.octets();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || ip.to_ipv4().is_some()) // IPv4-compatible (deprecated)
}

pub async fn resolve(name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let looked_up = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port))).await;
    match looked_up {
        Ok(Ok(found)) => {
            let found: Vec<SocketAddr> = found.collect();
            if found.is_empty() {
                Err(format!("host {name} has no address"))
            } else {
                Ok(found)
            }
        }
        Ok(Err(e)) => Err(format!("host {name} cannot be resolved ({e})")),
        Err(_) => Err(format!("host {name} did not resolve within {} s", RESOLVE_TIMEOUT.as_secs())),
    }
}
