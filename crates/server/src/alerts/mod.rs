//! Alerts back to the sender: rules turn incident evidence into alerts ([`rules`]), every
//! alert is stored with a dedupe key (so a rule fires once per incident, however many
//! servers evaluate it) together with its deliveries in a persisted outbox ([`outbox`]),
//! in one transaction. Nothing is lost on a restart: undelivered rows are picked up again
//! (at least once; receivers dedupe on the key).
//!
//! Live stream: a committed alert is published to the server's subscribers (the
//! `/api/v1/alerts/stream` connections). With PostgreSQL the alert's transaction also sends
//! `NOTIFY leakwatch_alerts`, and every server (this one included) publishes what it hears
//! on `LISTEN`, so a stream connected to any server sees alerts raised on any other.
//!
//! Tasks: the evaluator (woken by the pixel writer after each commit, with the messages it
//! wrote), the scheduler (time-based rules every `alerts.tick_seconds`), the outbox worker,
//! and with PostgreSQL the listener.
//!
//! The engine ([`AlertEngine`]) depends on the database, the clock, the mailer and its
//! settings only, so the rules, the outbox and the tasks are tested without HTTP
//! (`tests/it/alert_engine.rs`); [`http`] is the API over it (list, stream, settings).

pub mod http;
pub mod outbox;
pub mod rules;
pub mod settings;
pub mod test_send;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};
use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use utoipa::ToSchema;

use leakwatch_core::Lang;

use crate::kit::clock::Clock;
use crate::kit::config::{AlertsConfig, MailConfig};
use crate::kit::db::{Backend, Db};
use crate::kit::ids::random_id;
use crate::kit::mail::Mailer;
use crate::kit::outbound::{HttpClient, Outbound};
use crate::kit::time::now_ms;
use crate::pixel::{CommitFeed, Status};

pub use rules::{summary, Context};
pub use settings::{load as tenant_settings, AlertSettings};

/// The PostgreSQL channel alerts are announced on; the payload is the alert's `seq`.
pub const CHANNEL: &str = "leakwatch_alerts";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A mail client opened the misdirected message after it was reported.
    ClientOpen,
    /// The incident was created: what the evidence says so far.
    IncidentSummary,
    /// N hours after sending, still no client open.
    NotOpened,
    /// More distinct opening clients than wrong recipients.
    PossibleForwarding,
    /// Still undecided some hours after awareness.
    UndecidedReminder,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ClientOpen => "client_open",
            Kind::IncidentSummary => "incident_summary",
            Kind::NotOpened => "not_opened",
            Kind::PossibleForwarding => "possible_forwarding",
            Kind::UndecidedReminder => "undecided_reminder",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Normal,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Normal => "normal",
        }
    }
}

/// One alert, as the stream, the list, mail and webhooks carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    /// Increasing; the stream's event id.
    pub seq: i64,
    pub id: String,
    pub kind: Kind,
    pub severity: Severity,
    pub incident_id: String,
    pub message_id: String,
    /// In the sender's language (the message's); names the message's subject.
    pub title: String,
    pub body: String,
    /// Title and body in each language, for a view to show in its reader's. Absent on
    /// alerts raised before leakwatch kept both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texts: Option<AlertTexts>,
    pub evidence_status: Status,
    /// The Art. 33 deadline of the incident, Unix milliseconds.
    pub deadline_at: i64,
    pub created_at: i64,
}

/// An alert's title and body in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertText {
    pub title: String,
    pub body: String,
}

/// An alert's title and body in English and in Dutch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertTexts {
    pub en: AlertText,
    pub nl: AlertText,
}

impl AlertTexts {
    pub fn get(&self, lang: Lang) -> &AlertText {
        match lang {
            Lang::En => &self.en,
            Lang::Nl => &self.nl,
        }
    }
}

/// An alert with whom it is for, as published to the stream's subscribers.
#[derive(Debug, Clone)]
pub struct Published {
    pub tenant_id: String,
    pub user_id: String,
    pub alert: Alert,
}

/// What a rule wants to raise.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub tenant_id: String,
    /// The sender the alert is for.
    pub user_id: String,
    pub user_email: String,
    pub incident_id: String,
    pub message_id: String,
    pub kind: Kind,
    pub severity: Severity,
    /// The sender's language (the message's): the alert's `title` and `body`, and its mail.
    pub lang: Lang,
    pub texts: AlertTexts,
    pub evidence_status: Status,
    pub deadline_at: i64,
}

impl NewAlert {
    pub fn dedupe_key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.incident_id)
    }
}

/// The alert engine: what it depends on (database, clock, mailer, settings) and its
/// running tasks. A cheap handle; the root builds one and hands it to the features that
/// raise alerts (incidents) and to the alerts API.
#[derive(Clone)]
pub struct AlertEngine(Arc<EngineParts>);

struct EngineParts {
    db: Db,
    clock: Clock,
    mailer: Mailer,
    settings: AlertsConfig,
    /// `[mail]`: the relay a tenant's own sender address goes through, the SMTP timeout.
    mail_settings: MailConfig,
    /// PostgreSQL: where the listener connects (its own connection, outside the pool).
    database_url: String,
    /// The rule for the tenants' webhooks and relays.
    outbound: Outbound,
    /// The webhooks' client, under that rule.
    webhooks: HttpClient,
    runtime: Alerts,
}

/// What the engine needs, named.
pub struct EngineDeps {
    pub db: Db,
    pub clock: Clock,
    /// The server's default relay (`[mail]`); a tenant's own smarthost overrides it.
    pub mailer: Mailer,
    pub settings: AlertsConfig,
    pub mail_settings: MailConfig,
    pub database_url: String,
    /// What tenants' webhooks and relays may connect to (`[outbound]`).
    pub outbound: Outbound,
}

impl AlertEngine {
    /// An engine whose tasks are not running yet ([`AlertEngine::start`]).
    pub fn new(deps: EngineDeps) -> AlertEngine {
        let webhooks = deps
            .outbound
            .http_client(
                reqwest::Client::builder()
                    .user_agent(concat!("leakwatch/", env!("CARGO_PKG_VERSION"))),
            )
            .expect("a plain HTTP client builds");
        AlertEngine(Arc::new(EngineParts {
            db: deps.db,
            clock: deps.clock,
            mailer: deps.mailer,
            settings: deps.settings,
            mail_settings: deps.mail_settings,
            database_url: deps.database_url,
            outbound: deps.outbound,
            webhooks,
            runtime: Alerts::new(),
        }))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// "Now" for the rules (manual in tests).
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn mailer(&self) -> &Mailer {
        &self.0.mailer
    }

    pub fn settings(&self) -> &AlertsConfig {
        &self.0.settings
    }

    pub fn mail_settings(&self) -> &MailConfig {
        &self.0.mail_settings
    }

    pub fn database_url(&self) -> &str {
        &self.0.database_url
    }

    /// What tenants' webhooks and relays may connect to.
    pub fn outbound(&self) -> &Outbound {
        &self.0.outbound
    }

    /// The client webhooks are delivered with (no redirects, the outbound rule).
    pub fn webhooks(&self) -> &HttpClient {
        &self.0.webhooks
    }

    /// The live streams, the feed and the tasks.
    pub fn alerts(&self) -> &Alerts {
        &self.0.runtime
    }

    /// Starts the evaluator, the scheduler, the outbox worker and (PostgreSQL) the listener.
    pub async fn start(&self) -> anyhow::Result<()> {
        self.alerts().start(self).await
    }

    /// Stops the tasks (see [`Alerts::shutdown`]).
    pub async fn shutdown(&self) {
        self.alerts().shutdown().await
    }
}

/// The alert machinery's running part: live streams, the commit feed, the tasks.
pub struct Alerts {
    live: broadcast::Sender<Arc<Published>>,
    feed: CommitFeed,
    outbox_wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    /// Set when the server begins to shut down: live streams end, so the graceful
    /// shutdown does not wait for them forever (clients reconnect elsewhere and resume).
    closing: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Default for Alerts {
    fn default() -> Self {
        Self::new()
    }
}

impl Alerts {
    pub fn new() -> Alerts {
        metrics::describe_counter!("leakwatch_alerts_raised_total", "Alerts raised, by kind");
        metrics::describe_counter!(
            "leakwatch_alert_deliveries_total",
            "Alert deliveries by mail and webhook, by channel and result"
        );
        Alerts {
            live: broadcast::channel(1024).0,
            feed: CommitFeed::default(),
            outbox_wake: Arc::new(Notify::new()),
            stop: watch::channel(false).0,
            closing: watch::channel(false).0,
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The feed the pixel writer pushes committed messages into.
    pub fn feed(&self) -> CommitFeed {
        self.feed.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.live.subscribe()
    }

    /// Starts the evaluator, the scheduler, the outbox worker and (PostgreSQL) the listener,
    /// which is listening when this returns, so nothing announced after is missed.
    async fn start(&self, state: &AlertEngine) -> anyhow::Result<()> {
        let listening = if state.db().backend == Backend::Postgres {
            Some(listen(state).await?)
        } else {
            None
        };
        let mut tasks = self.tasks.lock().expect("the task lock is never poisoned");
        tasks.push(tokio::spawn(evaluator(
            state.clone(),
            self.stop.subscribe(),
        )));
        tasks.push(tokio::spawn(scheduler(
            state.clone(),
            self.stop.subscribe(),
        )));
        tasks.push(tokio::spawn(outbox::worker(
            state.clone(),
            self.outbox_wake.clone(),
            self.stop.subscribe(),
        )));
        if let Some(first) = listening {
            tasks.push(tokio::spawn(listener(
                state.clone(),
                first,
                self.stop.subscribe(),
            )));
        }
        Ok(())
    }

    /// Stops the tasks; a delivery in progress is finished (or its lease runs out and
    /// another server, or the next start, delivers it).
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().expect("never poisoned"));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Ends every live stream (the server is shutting down).
    pub fn close_streams(&self) {
        let _ = self.closing.send(true);
    }

    /// Resolves (changes) when the streams are to end.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Wakes the outbox worker (new deliveries are due).
    pub fn wake_outbox(&self) {
        self.outbox_wake.notify_one();
    }

    fn publish(&self, published: Published) {
        // No subscriber is fine: the alert is stored and replayed on connect.
        let _ = self.live.send(Arc::new(published));
    }
}

/// Stores an alert and its deliveries in the caller's transaction; `None` when this rule
/// already fired for this incident. After the commit, call [`announced`] with the result.
pub async fn raise(
    tx: &mut Transaction<'static, Any>,
    state: &AlertEngine,
    new: &NewAlert,
    settings: &AlertSettings,
) -> Result<Option<Published>, sqlx::Error> {
    let id = random_id();
    let created_at = state.clock().now_ms();
    let mut alert = Alert {
        seq: 0,
        id: id.clone(),
        kind: new.kind,
        severity: new.severity,
        incident_id: new.incident_id.clone(),
        message_id: new.message_id.clone(),
        title: new.texts.get(new.lang).title.clone(),
        body: new.texts.get(new.lang).body.clone(),
        texts: Some(new.texts.clone()),
        evidence_status: new.evidence_status,
        deadline_at: new.deadline_at,
        created_at,
    };
    let payload = serde_json::to_string(&alert).expect("an alert serialises");
    let row = sqlx::query(
        "INSERT INTO alerts (id, tenant_id, user_id, incident_id, kind, severity, dedupe_key, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq",
    )
    .bind(&id)
    .bind(&new.tenant_id)
    .bind(&new.user_id)
    .bind(&new.incident_id)
    .bind(new.kind.as_str())
    .bind(new.severity.as_str())
    .bind(new.dedupe_key())
    .bind(payload)
    .bind(created_at)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    alert.seq = row.try_get("seq")?;
    let mail_possible = !settings.smarthost.is_empty() || state.mailer().is_configured();
    let mut deliveries: Vec<(&str, &str)> = Vec::new();
    if settings.mail && mail_possible {
        deliveries.push(("mail", &new.user_email));
    }
    for hook in &settings.webhooks {
        deliveries.push(("webhook", &hook.url));
    }
    for (channel, target) in deliveries {
        sqlx::query(
            "INSERT INTO outbox (alert_seq, channel, target, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (alert_seq, channel, target) DO NOTHING",
        )
        .bind(alert.seq)
        .bind(channel)
        .bind(target)
        // The outbox schedules by the system clock (see `outbox`).
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    }
    if state.db().backend == Backend::Postgres {
        // Delivered to every listening server when (and only if) the transaction commits.
        sqlx::query(&format!("NOTIFY {CHANNEL}, '{}'", alert.seq))
            .persistent(false)
            .execute(&mut **tx)
            .await?;
    }
    metrics::counter!("leakwatch_alerts_raised_total", "kind" => new.kind.as_str()).increment(1);
    Ok(Some(Published {
        tenant_id: new.tenant_id.clone(),
        user_id: new.user_id.clone(),
        alert,
    }))
}

/// After the commit of [`raise`]: publishes the alert to this server's streams (with
/// PostgreSQL the listener does that for every server) and wakes the outbox.
pub fn announced(state: &AlertEngine, raised: Option<Published>) {
    let Some(published) = raised else { return };
    if state.db().backend != Backend::Postgres {
        state.alerts().publish(published);
    }
    state.alerts().wake_outbox();
}

/// One alert by its sequence number, with whom it is for.
pub async fn load(db: &Db, seq: i64) -> Result<Option<Published>, sqlx::Error> {
    let row = sqlx::query("SELECT seq, tenant_id, user_id, payload FROM alerts WHERE seq = $1")
        .bind(seq)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|r| published_from_row(&r)).transpose()
}

pub fn published_from_row(row: &sqlx::any::AnyRow) -> Result<Published, sqlx::Error> {
    let payload: String = row.try_get("payload")?;
    let mut alert: Alert =
        serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    alert.seq = row.try_get("seq")?;
    Ok(Published {
        tenant_id: row.try_get("tenant_id")?,
        user_id: row.try_get("user_id")?,
        alert,
    })
}

/// The evaluator's pace under load: when more commits came in while it evaluated (the pixel
/// writer commits faster than it evaluates), the next evaluation waits until this long after
/// the last one began, so the messages of many commits are looked up together rather than
/// with one query per commit. A fetch that finds the evaluator idle is evaluated at once.
const EVALUATE_EVERY: Duration = Duration::from_millis(25);

async fn evaluator(state: AlertEngine, mut stop: watch::Receiver<bool>) {
    let feed = state.alerts().feed.clone();
    let mut last: Option<tokio::time::Instant> = None;
    loop {
        // Under load: something was pushed during the last evaluation.
        let busy = !feed.is_empty();
        let mut stopping = tokio::select! {
            _ = feed.pushed() => false,
            _ = stop.changed() => true,
        };
        if let (false, true, Some(last)) = (stopping, busy, last) {
            stopping = tokio::select! {
                _ = tokio::time::sleep_until(last + EVALUATE_EVERY) => false,
                _ = stop.changed() => true,
            };
        }
        last = Some(tokio::time::Instant::now());
        // On stop, what the pixel writer committed last is still evaluated.
        let messages = feed.take();
        if !messages.is_empty() {
            if let Err(e) = rules::on_fetches(&state, messages.clone()).await {
                // Kept for the next round (and the scheduler's catch-up covers a restart).
                tracing::warn!(error = %e, "evaluating incidents after pixel fetches failed");
                feed.push(messages.iter().map(String::as_str));
                if !stopping {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        if stopping {
            break;
        }
    }
}

async fn scheduler(state: AlertEngine, mut stop: watch::Receiver<bool>) {
    let period = Duration::from_secs(state.settings().tick_seconds.max(1));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => break,
        }
        if let Err(e) = rules::tick(&state).await {
            tracing::warn!(error = %e, "evaluating the time-based alert rules failed");
        }
    }
}

async fn listen(state: &AlertEngine) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(state.database_url()).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// PostgreSQL: publishes every alert announced on [`CHANNEL`], by any server.
async fn listener(
    state: AlertEngine,
    first: sqlx::postgres::PgListener,
    mut stop: watch::Receiver<bool>,
) {
    let mut connected = Some(first);
    loop {
        let mut listener = match connected.take() {
            Some(l) => l,
            None => match listen(&state).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for alerts; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                        _ = stop.changed() => return,
                    }
                }
            },
        };
        loop {
            tokio::select! {
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) => {
                        let Ok(seq) = notification.payload().parse::<i64>() else { continue };
                        match load(state.db(), seq).await {
                            Ok(Some(published)) => state.alerts().publish(published),
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, seq, "cannot load an announced alert"),
                        }
                    }
                    // The connection was lost (notifications meanwhile are missed; streams
                    // also re-read the table, so none is lost to a subscriber).
                    Ok(None) => tracing::warn!("the alert listener reconnects"),
                    Err(e) => {
                        tracing::warn!(error = %e, "the alert listener failed; reconnecting");
                        break;
                    }
                },
                _ = stop.changed() => return,
            }
        }
    }
}
