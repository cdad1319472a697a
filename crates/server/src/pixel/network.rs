//! Where a request came from, kept only as a keyed hash of its network.
//!
//! The client's address is the TCP peer, or, when the peer is one of the configured
//! `trusted_proxies`, the rightmost `X-Forwarded-For` entry that is not itself a trusted
//! proxy (everything left of that could be written by the client). The address is cut to
//! its network, a /24 for IPv4 or a /48 for IPv6 (an IPv4-mapped IPv6 address is its IPv4
//! address), and only the network is hashed: HMAC-SHA256 with a random key of the UTC day,
//! truncated to 128 bits, URL-safe base64 (22 characters). Neither the address nor the
//! network is ever written anywhere; the hash links the fetches of one day from one network
//! (and the sender's registration to its own client's fetch) and nothing else.
//!
//! The day keys live in `network_keys`, created on demand by whichever server needs one
//! first (an insert that loses the race reads the winner's key), and are deleted after
//! [`KEEP_DAYS`] days. With the key gone, nobody, the operator included, can test a stored
//! hash against candidate networks any more (a /24 space is small enough to enumerate while
//! the key exists).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Request};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use sha2::Sha256;
use sqlx::Row;

use crate::db::{random_bytes, Db};
use crate::state::AppState;

/// Day keys kept: today's and the two before (fetches committed just after midnight, and
/// servers whose clocks differ a little, still find theirs).
pub const KEEP_DAYS: i64 = 3;

const DAY_MS: i64 = 86_400_000;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Days since the Unix epoch (UTC) of a time in Unix milliseconds.
pub fn day_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(DAY_MS)
}

/// A client network: the /24 of an IPv4 address or the /48 of an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetPrefix {
    V4([u8; 3]),
    V6([u8; 6]),
}

impl NetPrefix {
    pub fn of(ip: IpAddr) -> NetPrefix {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                NetPrefix::V4([o[0], o[1], o[2]])
            }
            IpAddr::V6(v6) => {
                let o = v6.octets();
                NetPrefix::V6([o[0], o[1], o[2], o[3], o[4], o[5]])
            }
        }
    }
}

/// A network's keyed hash as stored: 22 characters of URL-safe base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkHash([u8; 16]);

impl NetworkHash {
    pub fn to_text(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Compares with a stored hash without allocating.
    pub fn matches_text(self, text: &str) -> bool {
        let mut buf = [0u8; 24];
        matches!(URL_SAFE_NO_PAD.decode_slice(text, &mut buf), Ok(16) if buf[..16] == self.0)
    }
}

/// A day key, ready to hash with (the HMAC state after the key, cloned per use).
#[derive(Clone)]
pub struct DayKey(Hmac<Sha256>);

impl DayKey {
    pub fn new(secret: &[u8]) -> DayKey {
        DayKey(Hmac::new_from_slice(secret).expect("HMAC takes any key length"))
    }

    pub fn hash(&self, prefix: NetPrefix) -> NetworkHash {
        let mut mac = self.0.clone();
        mac.update(b"leakwatch-network-v1");
        match prefix {
            NetPrefix::V4(bytes) => {
                mac.update(&[4]);
                mac.update(&bytes);
            }
            NetPrefix::V6(bytes) => {
                mac.update(&[6]);
                mac.update(&bytes);
            }
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        NetworkHash(out)
    }
}

/// The day keys in use, loaded from (or created in) the database on demand.
#[derive(Default)]
pub struct NetworkKeys {
    cache: Mutex<Vec<(i64, DayKey)>>,
}

impl NetworkKeys {
    /// The key of a day, from memory when this server has used it before.
    pub async fn key(&self, db: &Db, day: i64) -> Result<DayKey, sqlx::Error> {
        if let Some(key) = self.cached(day) {
            return Ok(key);
        }
        let secret = random_bytes::<32>().to_vec();
        sqlx::query(
            "INSERT INTO network_keys (day, secret) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(&secret)
        .execute(&db.pool)
        .await?;
        // Another server may have created the day's key first: everyone uses the stored one.
        let row = sqlx::query("SELECT secret FROM network_keys WHERE day = $1")
            .bind(day)
            .fetch_one(&db.pool)
            .await?;
        let secret: Vec<u8> = row.try_get("secret")?;
        let key = DayKey::new(&secret);
        let newest = {
            let mut cache = self.cache.lock().expect("network key cache");
            if !cache.iter().any(|(d, _)| *d == day) {
                cache.push((day, key.clone()));
            }
            cache.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
            cache.truncate(KEEP_DAYS as usize);
            cache[0].0
        };
        // A new day: forget the keys that are too old, here and for every server.
        sqlx::query("DELETE FROM network_keys WHERE day <= $1")
            .bind(newest - KEEP_DAYS)
            .execute(&db.pool)
            .await?;
        Ok(key)
    }

    fn cached(&self, day: i64) -> Option<DayKey> {
        let cache = self.cache.lock().expect("network key cache");
        cache
            .iter()
            .find(|(d, _)| *d == day)
            .map(|(_, k)| k.clone())
    }

    /// The stored hash of an address's network at a time.
    pub async fn hash(&self, db: &Db, ip: IpAddr, at_ms: i64) -> Result<String, sqlx::Error> {
        Ok(self
            .key(db, day_of(at_ms))
            .await?
            .hash(NetPrefix::of(ip))
            .to_text())
    }
}

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

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(client_ip(
            peer,
            &parts.headers,
            &state.config().trusted_proxies,
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

    #[test]
    fn prefixes() {
        assert_eq!(
            NetPrefix::of(ip("203.0.113.77")),
            NetPrefix::V4([203, 0, 113])
        );
        assert_eq!(
            NetPrefix::of(ip("2001:db8:abcd:12::1")),
            NetPrefix::V6([0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd])
        );
        // IPv4-mapped IPv6 is the IPv4 network.
        assert_eq!(
            NetPrefix::of(ip("::ffff:203.0.113.9")),
            NetPrefix::V4([203, 0, 113])
        );
    }

    #[test]
    fn hashes_are_per_network_and_per_day() {
        let today = DayKey::new(b"today's key");
        let tomorrow = DayKey::new(b"tomorrow's key");
        let h = |key: &DayKey, text: &str| key.hash(NetPrefix::of(ip(text)));
        // The same /24 hashes the same; another /24 does not.
        assert_eq!(h(&today, "203.0.113.1"), h(&today, "203.0.113.254"));
        assert_ne!(h(&today, "203.0.113.1"), h(&today, "203.0.114.1"));
        // The same /48 hashes the same; another /48 does not.
        assert_eq!(
            h(&today, "2001:db8:1:1::1"),
            h(&today, "2001:db8:1:ffff::2")
        );
        assert_ne!(h(&today, "2001:db8:1::1"), h(&today, "2001:db8:2::1"));
        // A mapped address is its IPv4 network.
        assert_eq!(h(&today, "::ffff:203.0.113.9"), h(&today, "203.0.113.200"));
        // An IPv6 network that starts with the same bytes as an IPv4 one is another network.
        assert_ne!(h(&today, "cb00:7100::1"), h(&today, "203.0.113.1"));
        // Another day, another hash.
        assert_ne!(h(&today, "203.0.113.1"), h(&tomorrow, "203.0.113.1"));
        // Stored as 22 characters of URL-safe base64, never the address.
        let text = h(&today, "203.0.113.1").to_text();
        assert_eq!(text.len(), 22);
        assert!(!text.contains("203"));
        assert!(h(&today, "203.0.113.1").matches_text(&text));
        assert!(!h(&today, "203.0.114.1").matches_text(&text));
        assert!(!h(&today, "203.0.113.1").matches_text("not base64!"));
    }

    #[test]
    fn days() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY_MS - 1), 0);
        assert_eq!(day_of(DAY_MS), 1);
        assert_eq!(day_of(-1), -1);
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
