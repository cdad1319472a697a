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

use std::net::IpAddr;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;

use crate::kit::db::Db;
use crate::kit::ids::random_bytes;

/// Day keys kept: today's and the two before (fetches committed just after midnight, and
/// servers whose clocks differ a little, still find theirs).
pub const KEEP_DAYS: i64 = 3;

const DAY_MS: i64 = 86_400_000;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
