//! The application: built from a [`Config`], bound to its listener (port 0 picks a free
//! one, so tests run the real server), served until shutdown, when in-flight pixel hits are
//! committed before the process ends.
//!
//! The composition root: the only module that knows every feature. It builds each
//! feature's state from the configuration, wires the pixel writer's commit feed to the
//! alert engine, and merges the routers.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{header, HeaderValue, Method};
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::alerts::{AlertEngine, EngineDeps};
use crate::auth::Authenticator;
use crate::health::Metrics;
use crate::incidents::IncidentsState;
use crate::kit::client::TrustedProxies;
use crate::kit::clock::Clock;
use crate::kit::config::{Config, PublicUrl};
use crate::kit::db::Db;
use crate::kit::error::ApiError;
use crate::kit::keys::Keys;
use crate::kit::mail::Mailer;
use crate::kit::outbound::{Outbound, Resolver};
use crate::messages::MessagesState;
use crate::pixel::Pipeline;
use crate::privacy::PrivacyState;
use crate::{
    addin, alerts, audit, auth, checklist, dashboard, health, incidents, messages, openapi, pixel,
    policy, privacy, stats, users,
};

/// Every feature's state, assembled here and nowhere else. Handlers take the part they
/// need (`State<Db>`, `State<AlertEngine>`, ...) through [`FromRef`]; no feature sees this
/// type. One `Arc`: axum clones the state for every request, and one reference count is
/// cheaper than one per part (the pixel's profile showed the clone and drop at 3 %).
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

struct Parts {
    config: Arc<Config>,
    db: Db,
    clock: Clock,
    keys: Arc<Keys>,
    public_url: PublicUrl,
    trusted_proxies: TrustedProxies,
    metrics: Metrics,
    auth: Authenticator,
    pixel: Pipeline,
    alerts: AlertEngine,
    privacy: PrivacyState,
    messages: MessagesState,
    incidents: IncidentsState,
    outlook_sign_in: addin::MicrosoftSignIn,
}

impl AppState {
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// "Now" for rules and jobs that act on time passing (manual in tests).
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn keys(&self) -> &Keys {
        &self.0.keys
    }

    /// Base URL for pixel and info links, without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.0.public_url.as_str()
    }

    pub fn auth(&self) -> &Authenticator {
        &self.0.auth
    }

    pub fn pixel(&self) -> &Pipeline {
        &self.0.pixel
    }

    pub fn alerts(&self) -> &AlertEngine {
        &self.0.alerts
    }

    pub fn privacy(&self) -> &PrivacyState {
        &self.0.privacy
    }
}

/// `FromRef` for each part a handler may take.
macro_rules! parts {
    ($($field:ident: $part:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $part {
            fn from_ref(state: &AppState) -> $part {
                state.0.$field.clone()
            }
        })*
    };
}

parts! {
    db: Db,
    public_url: PublicUrl,
    clock: Clock,
    trusted_proxies: TrustedProxies,
    metrics: Metrics,
    auth: Authenticator,
    pixel: Pipeline,
    alerts: AlertEngine,
    privacy: PrivacyState,
    messages: MessagesState,
    incidents: IncidentsState,
    outlook_sign_in: addin::MicrosoftSignIn,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    router: Router,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = Db::connect(&config.effective_database_url()).await?;
        Self::build_with_db(config, db).await
    }

    pub async fn build_with_db(config: Config, db: Db) -> anyhow::Result<Application> {
        Self::build_with(config, db, Clock::system()).await
    }

    /// With a given clock for time-based rules and jobs (tests pass a manual one).
    pub async fn build_with(config: Config, db: Db, clock: Clock) -> anyhow::Result<Application> {
        Self::build_with_resolver(config, db, clock, Resolver::system()).await
    }

    /// With a given clock and the resolver that outgoing connections to tenants' hosts
    /// find their addresses with (tests pass a table: `evil.test` is 127.0.0.1).
    pub async fn build_with_resolver(
        config: Config,
        db: Db,
        clock: Clock,
        resolver: Resolver,
    ) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let bound = listener.local_addr()?;
        let keys = Arc::new(Keys::load_or_create(&db).await?);
        // The dummy password hash, made now rather than during someone's first login.
        tokio::task::spawn_blocking(crate::kit::password::warm_up);
        // The recorder first: the pipeline takes its metric handles when it starts.
        let metrics = Metrics(metrics_recorder());
        let public_url = PublicUrl::new(&config.effective_public_url(bound));
        let mailer =
            Mailer::from_config(&config.mail).map_err(|e| anyhow::anyhow!("mail settings: {e}"))?;
        let outbound = Outbound::new(&config.outbound, resolver);
        let alerts = AlertEngine::new(EngineDeps {
            db: db.clone(),
            clock: clock.clone(),
            mailer: mailer.clone(),
            settings: config.alerts.clone(),
            mail_settings: config.mail.clone(),
            database_url: config.effective_database_url(),
            outbound: outbound.clone(),
        });
        let pixel =
            Pipeline::start(db.clone(), &config, &keys, Some(alerts.alerts().feed())).await?;
        let privacy = PrivacyState::load(
            db.clone(),
            clock.clone(),
            mailer,
            public_url.clone(),
            &config.privacy,
            &keys.limits.secret,
        )
        .await?;
        let outlook_sign_in =
            addin::MicrosoftSignIn::from_config(&config.outlook, public_url.as_str())?;
        let state = AppState(Arc::new(Parts {
            outlook_sign_in,
            auth: Authenticator::new(
                db.clone(),
                keys.clone(),
                &config.auth,
                public_url.as_str(),
                &outbound,
            )?,
            messages: MessagesState::new(
                db.clone(),
                clock.clone(),
                keys.clone(),
                public_url.clone(),
                pixel.clone(),
                privacy.clone(),
            ),
            incidents: IncidentsState::new(db.clone(), clock.clone(), alerts.clone()),
            trusted_proxies: TrustedProxies(config.trusted_proxies.clone().into()),
            config: Arc::new(config),
            db,
            clock,
            keys,
            public_url,
            metrics,
            pixel,
            alerts,
            privacy,
        }));
        if let Err(why) = addin::status(state.public_url()) {
            tracing::warn!("Outlook add-in: {why}");
        }
        state.0.alerts.start().await?;
        let router = router(state.clone());
        Ok(Application {
            listener,
            state,
            router,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then commits the pixel hits still in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            state,
            router,
        } = self;
        // Retention runs while the server does (stopped when dropped).
        let _retention = crate::privacy::retention::start(state.privacy());
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let state = state.clone();
            async move {
                shutdown.await;
                state.alerts().alerts().close_streams();
            }
        })
        .await;
        // Also after a serving error: answered fetches are committed, then evaluated.
        state.pixel().shutdown().await;
        state.alerts().shutdown().await;
        Ok(served?)
    }
}

/// One Prometheus recorder per process (tests build many applications).
fn metrics_recorder() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("leakwatch_pixel_commit_seconds".into()),
                    &[
                        0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                        1.0, 2.5, 5.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("leakwatch_pixel_batch_size".into()),
                        &[
                            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
                            2048.0,
                        ],
                    )
                })
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Every feature's router, merged: the API under CORS and the body limit; the pixel, the
/// recipients' pages, the Outlook add-in, health, the API document and the dashboard outside it.
pub fn router(state: AppState) -> Router {
    let config = state.config();
    let origins: Vec<HeaderValue> = config
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let api = OpenApiRouter::new()
        .merge(messages::router())
        .merge(incidents::router())
        .merge(alerts::http::router())
        .merge(auth::http::router())
        .merge(policy::router())
        .merge(privacy::api_router())
        .merge(audit::http::router())
        .merge(users::router())
        .merge(checklist::router())
        .merge(stats::router())
        .layer(cors)
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    let (routes, doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api)
        .merge(pixel::router())
        .merge(health::router())
        .merge(privacy::public_router())
        .merge(addin::router())
        .merge(dashboard::router())
        .split_for_parts();
    routes
        .merge(openapi::router(doc))
        .fallback(|| async { ApiError::NotFound("route") })
        // Every HTML response, whichever route made it, gets the security headers.
        .layer(axum::middleware::map_response(
            crate::kit::html::security_headers,
        ))
        // Spans name the path, never the query (the alert stream's `access_token`).
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}
