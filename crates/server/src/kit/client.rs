//! Where a request came from: the TCP peer, or, when the peer is one of the configured
//! `trusted_proxies`, the rightmost `X-Forwarded-For` entry that is not itself a trusted
//! proxy (everything left of that could be written by the client). The pixel hashes it,
//! logins and the objection form rate-limit by it, registration hashes the sender's network:
//! so it lives here, beneath all of them.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Request};
use ipnet::IpNet;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The proxies whose `X-Forwarded-For` is believed (`trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<[IpNet]>);

/// The client's address: the TCP peer, or the first untrusted hop of `X-Forwarded-For`
/// when the peer is a trusted proxy.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if trusted.is_empty() || !is_trusted(peer, trusted) {
        return Some(peer);
    }
    // Right to left: each hop was added by the proxy to its right.
    let mut client = peer;
    for value in headers.get_all(&X_FORWARDED_FOR).iter().rev() {
        let Ok(value) = value.to_str() else {
            return Some(client);
        };
        for hop in value.rsplit(',') {
            let Some(ip) = parse_hop(hop) else {
                return Some(client);
            };
            client = ip;
            if !is_trusted(ip, trusted) {
                return Some(ip);
            }
        }
    }
    Some(client)
}

/// The client's address ([`client_ip`] of the request), for handlers.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    TrustedProxies: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(client_ip(
            peer,
            &parts.headers,
            &TrustedProxies::from_ref(state).0,
        )))
    }
}

/// The TCP peer of a request, as `into_make_service_with_connect_info` records it.
pub fn peer_of<B>(request: &Request<B>) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// One `X-Forwarded-For` entry: an address, possibly `[v6]:port` or `v4:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip().to_canonical());
    }
    let inner = hop.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        let headers = xff(&["198.51.100.7, 10.1.1.1"]);
        // Not configured: the header is ignored.
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &headers, &[]),
            Some(ip("10.2.2.2"))
        );
        // From an untrusted peer: ignored.
        assert_eq!(
            client_ip(Some(ip("192.0.2.1")), &headers, &trusted),
            Some(ip("192.0.2.1"))
        );
        // From a trusted proxy: the rightmost untrusted hop.
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &headers, &trusted),
            Some(ip("198.51.100.7"))
        );
        // A client cannot push a fake address through: the spoofed left entry is not used.
        let spoofed = xff(&["1.1.1.1, 198.51.100.7"]);
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), &spoofed, &trusted),
            Some(ip("198.51.100.7"))
        );
        // Several headers are one list, in order.
        let split = xff(&["198.51.100.7", "10.1.1.1"]);
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &split, &trusted),
            Some(ip("198.51.100.7"))
        );
        // Ports and brackets are tolerated; garbage stops at the last good hop.
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &xff(&["[2001:db8::1]:443"]), &trusted),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &xff(&["198.51.100.7:5000"]), &trusted),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &xff(&["garbage, 10.1.1.1"]), &trusted),
            Some(ip("10.1.1.1"))
        );
        // Only proxies: the leftmost one.
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &xff(&["10.3.3.3"]), &trusted),
            Some(ip("10.3.3.3"))
        );
        // No header: the peer.
        assert_eq!(
            client_ip(Some(ip("10.2.2.2")), &HeaderMap::new(), &trusted),
            Some(ip("10.2.2.2"))
        );
        // A mapped peer is its IPv4 address (dual-stack listeners).
        assert_eq!(
            client_ip(Some(ip("::ffff:192.0.2.1")), &headers, &trusted),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(client_ip(None, &headers, &trusted), None);
    }
}
