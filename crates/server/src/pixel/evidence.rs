//! What the pixel says about one message, for its incident: per fetch class the count and
//! the first and last time, the distinct clients (from the keyed network hash and the
//! user-agent family of the kept detail rows), and a plain status. Computed from
//! `pixel_counts` (exact) and `pixel_hits` (the first `detail_cap_per_class` fetches of each
//! class), so distinct clients are counted among those first fetches only. The network hash
//! is keyed per day (ADR 0004), so clients are counted per day and the busiest day counts:
//! one recipient opening on Monday and on Tuesday is one client, not two.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use leakwatch_core::Lang;

use crate::kit::db::Db;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClassEvidence {
    /// direct | google_proxy | apple_privacy | scanner | self_view
    pub class: String,
    pub hits: i64,
    pub first_at: i64,
    pub last_at: i64,
    /// Different (network, program) pairs among the kept detail rows of this class, on the
    /// day with the most.
    pub distinct_clients: i64,
}

/// The plain reading of the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A mail program fetched the pixel: the message was displayed.
    OpenedInMailClient,
    /// Only an image proxy (Google, Apple Mail Privacy Protection) fetched it.
    FetchedByProxyOnly,
    /// Only a security scanner fetched it.
    OnlyScanned,
    /// No fetch other than the sender's own view.
    NotOpened,
    /// The message carries no pixel, so there is no evidence either way.
    NotTracked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::OpenedInMailClient => "opened_in_mail_client",
            Status::FetchedByProxyOnly => "fetched_by_proxy_only",
            Status::OnlyScanned => "only_scanned",
            Status::NotOpened => "not_opened",
            Status::NotTracked => "not_tracked",
        }
    }

    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            Status::OpenedInMailClient => lang.pick("opened in a mail client", "geopend in een mailprogramma"),
            Status::FetchedByProxyOnly => lang.pick(
                "fetched by a proxy only (Gmail's image proxy usually means it was opened; Apple Mail Privacy Protection fetches unopened mail too)",
                "alleen opgehaald door een proxy (de afbeeldingsproxy van Gmail betekent meestal dat het bericht geopend is; Apple Mail Privacy Protection haalt ook ongeopende mail op)",
            ),
            Status::OnlyScanned => lang.pick("only scanned by a security filter", "alleen gescand door een beveiligingsfilter"),
            Status::NotOpened => lang.pick("not opened", "niet geopend"),
            Status::NotTracked => lang.pick("not tracked (no evidence either way)", "niet gevolgd (geen bewijs, in welke richting ook)"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// Every pixel request answered for the message.
    pub hits_total: i64,
    pub by_class: Vec<ClassEvidence>,
    pub status: Status,
    /// Different clients that opened the message in a mail program.
    pub distinct_clients: i64,
    /// More distinct opening clients than wrong recipients: it may have been forwarded.
    pub possible_forwarding: bool,
}

impl Evidence {
    pub fn class(&self, class: &str) -> Option<&ClassEvidence> {
        self.by_class.iter().find(|c| c.class == class)
    }

    /// The evidence for a message ([`for_message`]).
    pub async fn for_message(
        db: &Db,
        message_id: &str,
        tracked: bool,
        wrong_recipients: usize,
    ) -> Result<Evidence, sqlx::Error> {
        for_message(db, message_id, tracked, wrong_recipients).await
    }
}

/// The evidence for a message.
pub async fn for_message(
    db: &Db,
    message_id: &str,
    tracked: bool,
    wrong_recipients: usize,
) -> Result<Evidence, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let counts = sqlx::query(
        "SELECT class, hits, first_at, last_at FROM pixel_counts WHERE message_id = $1 ORDER BY class",
    )
    .bind(message_id)
    .fetch_all(&mut *tx)
    .await?;
    let distinct = sqlx::query(
        "SELECT class, MAX(clients) AS clients FROM ( \
           SELECT class, day, COUNT(*) AS clients FROM ( \
             SELECT DISTINCT class, at / 86400000 AS day, network, agent FROM pixel_hits WHERE message_id = $1) d \
           GROUP BY class, day) per_day GROUP BY class",
    )
    .bind(message_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let clients_of = |class: &str| -> i64 {
        distinct
            .iter()
            .find(|r| r.try_get::<String, _>("class").ok().as_deref() == Some(class))
            .and_then(|r| r.try_get::<i64, _>("clients").ok())
            .unwrap_or(0)
    };
    let by_class = counts
        .iter()
        .map(|r| {
            let class: String = r.try_get("class")?;
            Ok(ClassEvidence {
                distinct_clients: clients_of(&class),
                class,
                hits: r.try_get("hits")?,
                first_at: r.try_get("first_at")?,
                last_at: r.try_get("last_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(summarise(by_class, tracked, wrong_recipients))
}

/// The status and forwarding reading of per-class evidence.
pub fn summarise(by_class: Vec<ClassEvidence>, tracked: bool, wrong_recipients: usize) -> Evidence {
    let hits = |class: &str| {
        by_class
            .iter()
            .find(|c| c.class == class)
            .map_or(0, |c| c.hits)
    };
    let status = if !tracked {
        Status::NotTracked
    } else if hits("direct") > 0 {
        Status::OpenedInMailClient
    } else if hits("google_proxy") + hits("apple_privacy") > 0 {
        Status::FetchedByProxyOnly
    } else if hits("scanner") > 0 {
        Status::OnlyScanned
    } else {
        Status::NotOpened
    };
    let distinct_clients = by_class
        .iter()
        .find(|c| c.class == "direct")
        .map_or(0, |c| c.distinct_clients);
    Evidence {
        hits_total: by_class.iter().map(|c| c.hits).sum(),
        possible_forwarding: distinct_clients > wrong_recipients.max(1) as i64,
        distinct_clients,
        status,
        by_class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: &str, hits: i64, clients: i64) -> ClassEvidence {
        ClassEvidence {
            class: name.into(),
            hits,
            first_at: 1,
            last_at: 2,
            distinct_clients: clients,
        }
    }

    #[test]
    fn the_status_reads_the_strongest_class() {
        let s = |v: Vec<ClassEvidence>| summarise(v, true, 1).status;
        assert_eq!(s(vec![]), Status::NotOpened);
        assert_eq!(s(vec![class("self_view", 3, 1)]), Status::NotOpened);
        assert_eq!(s(vec![class("scanner", 2, 1)]), Status::OnlyScanned);
        assert_eq!(
            s(vec![class("scanner", 2, 1), class("apple_privacy", 1, 1)]),
            Status::FetchedByProxyOnly
        );
        assert_eq!(
            s(vec![class("google_proxy", 1, 1), class("direct", 1, 1)]),
            Status::OpenedInMailClient
        );
        assert_eq!(
            summarise(vec![class("direct", 1, 1)], false, 1).status,
            Status::NotTracked
        );
    }

    #[test]
    fn more_opening_clients_than_wrong_recipients_is_possible_forwarding() {
        assert!(!summarise(vec![class("direct", 5, 1)], true, 1).possible_forwarding);
        assert!(summarise(vec![class("direct", 5, 2)], true, 1).possible_forwarding);
        assert!(!summarise(vec![class("direct", 5, 2)], true, 2).possible_forwarding);
        // Proxies fetch from many networks; they say nothing about forwarding.
        assert!(!summarise(vec![class("google_proxy", 9, 9)], true, 1).possible_forwarding);
        let total = summarise(vec![class("direct", 5, 2), class("scanner", 3, 1)], true, 1);
        assert_eq!(total.hits_total, 8);
        assert_eq!(total.distinct_clients, 2);
    }
}
