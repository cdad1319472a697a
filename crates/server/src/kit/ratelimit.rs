//! Token-bucket limits kept in the database ([`SharedLimiter`]), so that every server on
//! one PostgreSQL draws on the same budget: the login limits (ADR 0014) and the objection
//! form's.
//!
//! Every attempt takes a token up front and a successful one may give it back, so in effect
//! only failures count and people who type their password right are never slowed down; a
//! bucket that is empty refuses every attempt, right or wrong, until it refills, so guessing
//! stays slow even when the guess would be right.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::kit::db::Db;

/// A token bucket in the database (`rate_limits`), shared by every server on it. Each bucket
/// is one number, the time it will be full again (GCRA): an attempt is admitted when, after
/// it, the bucket would be full again within `burst × refill` from now. The check and the
/// update are one statement, so attempts in parallel, on any server, cannot all pass. A row
/// exists only while its bucket is not full; rows past their time are deleted now and then.
/// Bucket names are keyed hashes of what is limited, so the table holds no address or
/// e-mail address.
pub struct SharedLimiter {
    /// Which limit this is; part of every bucket's name.
    scope: &'static str,
    name_key: Hmac<Sha256>,
    burst: i64,
    refill_ms: i64,
    last_prune_ms: AtomicI64,
}

/// How often each server deletes the rows of full buckets.
const PRUNE_EVERY_MS: i64 = 60_000;

impl SharedLimiter {
    /// `secret` keys the bucket names; every server must use the same one (the `limits`
    /// signing key).
    pub fn new(scope: &'static str, secret: &[u8], burst: u32, refill: Duration) -> Self {
        SharedLimiter {
            scope,
            name_key: Hmac::new_from_slice(secret).expect("HMAC takes any key length"),
            burst: i64::from(burst.max(1)),
            refill_ms: i64::try_from(refill.as_millis())
                .unwrap_or(i64::MAX / 4)
                .max(1),
            last_prune_ms: AtomicI64::new(0),
        }
    }

    fn bucket(&self, key: &str) -> String {
        let mut mac = self.name_key.clone();
        mac.update(self.scope.as_bytes());
        mac.update(b"\n");
        mac.update(key.as_bytes());
        let tag = mac.finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}:{hex}", self.scope)
    }

    /// Takes a token for an attempt when there is one: `Ok(Ok(()))`, or `Ok(Err(wait))`
    /// with how long until there is. A successful attempt gives it back
    /// ([`SharedLimiter::refund`]).
    pub async fn take(
        &self,
        db: &Db,
        key: &str,
        now_ms: i64,
    ) -> Result<Result<(), Duration>, sqlx::Error> {
        self.prune_now_and_then(db, now_ms).await?;
        let bucket = self.bucket(key);
        // `later` is max(full_at, now) + refill: when the bucket is full again after this attempt.
        let admitted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO rate_limits (bucket, full_at) VALUES ($1, $2 + $3) \
             ON CONFLICT (bucket) DO UPDATE SET full_at = \
               (CASE WHEN rate_limits.full_at > $2 THEN rate_limits.full_at ELSE $2 END) + $3 \
             WHERE (CASE WHEN rate_limits.full_at > $2 THEN rate_limits.full_at ELSE $2 END) + $3 <= $2 + $4 \
             RETURNING full_at",
        )
        .bind(&bucket)
        .bind(now_ms)
        .bind(self.refill_ms)
        .bind(self.burst.saturating_mul(self.refill_ms))
        .fetch_optional(&db.pool)
        .await?;
        if admitted.is_some() {
            return Ok(Ok(()));
        }
        let full_at: Option<i64> =
            sqlx::query_scalar("SELECT full_at FROM rate_limits WHERE bucket = $1")
                .bind(&bucket)
                .fetch_optional(&db.pool)
                .await?;
        // Admitted again once full_at - now <= (burst - 1) × refill.
        let wait = full_at
            .map(|full_at| full_at - now_ms - (self.burst - 1) * self.refill_ms)
            .unwrap_or(0)
            .max(1);
        Ok(Err(Duration::from_millis(wait as u64)))
    }

    /// Gives back the token of an attempt that succeeded.
    pub async fn refund(&self, db: &Db, key: &str, now_ms: i64) -> Result<(), sqlx::Error> {
        let bucket = self.bucket(key);
        sqlx::query("UPDATE rate_limits SET full_at = full_at - $2 WHERE bucket = $1")
            .bind(&bucket)
            .bind(self.refill_ms)
            .execute(&db.pool)
            .await?;
        sqlx::query("DELETE FROM rate_limits WHERE bucket = $1 AND full_at <= $2")
            .bind(&bucket)
            .bind(now_ms)
            .execute(&db.pool)
            .await?;
        Ok(())
    }

    /// Forgets `key`'s failures.
    pub async fn reset(&self, db: &Db, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM rate_limits WHERE bucket = $1")
            .bind(self.bucket(key))
            .execute(&db.pool)
            .await?;
        Ok(())
    }

    /// Deletes the rows of full buckets (they mean the same as no row), at most once a
    /// minute per server, so a flood of fresh keys does not grow the table for long.
    async fn prune_now_and_then(&self, db: &Db, now_ms: i64) -> Result<(), sqlx::Error> {
        let last = self.last_prune_ms.load(Ordering::Relaxed);
        if now_ms - last < PRUNE_EVERY_MS
            || self
                .last_prune_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        sqlx::query("DELETE FROM rate_limits WHERE bucket LIKE $1 AND full_at <= $2")
            .bind(format!("{}:%", self.scope))
            .bind(now_ms)
            .execute(&db.pool)
            .await?;
        Ok(())
    }
}

/// The key of a client address: the address for IPv4, its /64 for IPv6 (one subscriber
/// usually has a whole /64, so single addresses would be free to rotate through).
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(mapped), "192.0.2.7");
    }
}
