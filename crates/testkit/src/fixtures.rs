//! Rows for tests that run without a server (the alert engine): a tenant with a sender, a
//! tracked message, its incident, pixel fetches. Written with the same statements the
//! server's own code uses where one exists (tenants and users through the account store),
//! and as plain rows otherwise, so a test sets up exactly the history it needs at the
//! times it needs.

use leakwatch_server::accounts::{self, User};
use leakwatch_server::kit::db::Db;
use leakwatch_server::kit::ids::random_id;

/// The Art. 33 window the incidents API uses.
pub const NOTIFICATION_WINDOW_MS: i64 = 72 * 3600 * 1000;

/// A tenant `acme` (domain `acme.nl`) with one sender.
pub async fn sender(db: &Db, email: &str) -> User {
    accounts::create_tenant(db, "acme", "acme.nl")
        .await
        .unwrap();
    accounts::add_user(db, "acme", email, false)
        .await
        .unwrap()
        .0
}

/// A tracked message from `sender` to `to`, sent at `sent_at`; returns its id.
pub async fn tracked_message(
    db: &Db,
    sender: &User,
    to: &[&str],
    subject: &str,
    sent_at: i64,
) -> String {
    let id = random_id();
    let recipients = serde_json::json!({"to": to, "cc": [], "bcc": []}).to_string();
    sqlx::query(
        "INSERT INTO messages (id, tenant_id, sender_id, pixel_id, tracked, track_reason, subject, recipients, findings, overridden, created_at, lang) \
         VALUES ($1, $2, $3, $4, 1, 'test', $5, $6, '[]', 1, $7, 'en')",
    )
    .bind(&id)
    .bind(&sender.tenant_id)
    .bind(&sender.id)
    .bind(random_id())
    .bind(subject)
    .bind(recipients)
    .bind(sent_at)
    .execute(&db.pool)
    .await
    .unwrap();
    id
}

/// An open incident for `message_id`, reported by its sender at `aware_at`; returns its id.
pub async fn incident(
    db: &Db,
    sender: &User,
    message_id: &str,
    wrong: &[&str],
    aware_at: i64,
) -> String {
    let id = random_id();
    sqlx::query(
        "INSERT INTO incidents (id, tenant_id, message_id, reporter_id, wrong_recipients, aware_at, deadline_at, status, created_at, description, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $6, '', $6)",
    )
    .bind(&id)
    .bind(&sender.tenant_id)
    .bind(message_id)
    .bind(&sender.id)
    .bind(serde_json::to_string(wrong).unwrap())
    .bind(aware_at)
    .bind(aware_at + NOTIFICATION_WINDOW_MS)
    .execute(&db.pool)
    .await
    .unwrap();
    id
}

/// One recorded fetch of `class` at `at` from the network `network` (a stand-in for the
/// keyed hash), as the pixel writer records it: the count and one detail row.
pub async fn fetch(db: &Db, message_id: &str, class: &str, agent: &str, network: &str, at: i64) {
    sqlx::query(
        "INSERT INTO pixel_counts (message_id, class, hits, details, first_at, last_at) VALUES ($1, $2, 1, 1, $3, $3) \
         ON CONFLICT (message_id, class) DO UPDATE SET hits = pixel_counts.hits + 1, details = pixel_counts.details + 1, last_at = $3",
    )
    .bind(message_id)
    .bind(class)
    .bind(at)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO pixel_hits (message_id, at, class, agent, network) VALUES ($1, $2, $3, $4, $5)")
        .bind(message_id)
        .bind(at)
        .bind(class)
        .bind(agent)
        .bind(network)
        .execute(&db.pool)
        .await
        .unwrap();
}

/// The kinds of the alerts stored for an incident, in order.
pub async fn alert_kinds(db: &Db, incident_id: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query("SELECT kind FROM alerts WHERE incident_id = $1 ORDER BY seq")
        .bind(incident_id)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("kind"))
        .collect()
}
