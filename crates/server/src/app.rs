//! The application: built from a [`Config`], bound to its listener (port 0 picks a free
//! one, so tests run the real server), served until shutdown, when in-flight pixel hits are
//! committed before the process ends.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method};
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::keys::Keys;
use crate::pixel::Pipeline;
use crate::state::{AppState, Inner};
use crate::{api, info, openapi, pixel};

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
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let bound = listener.local_addr()?;
        let keys = Keys::load_or_create(&db).await?;
        // The dummy password hash, made now rather than during someone's first login.
        tokio::task::spawn_blocking(crate::password::warm_up);
        // The recorder first: the pipeline takes its metric handles when it starts.
        let metrics = metrics_recorder();
        let alerts = crate::alerts::Alerts::new();
        let pixel = Pipeline::start(db.clone(), &config, &keys, Some(alerts.feed())).await?;
        let privacy = crate::privacy::Privacy::load(&db, &config.privacy).await?;
        let state = AppState::new(Inner {
            public_url: config.effective_public_url(bound),
            db,
            keys,
            pixel,
            metrics,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()?,
            auth: crate::auth::AuthRuntime::new(&config.auth)?,
            clock,
            mailer: crate::mail::Mailer::from_config(&config.mail)
                .map_err(|e| anyhow::anyhow!("mail settings: {e}"))?,
            alerts,
            privacy,
            config,
        });
        state.alerts().start(&state).await?;
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
        let _retention = crate::privacy::retention::start(&state);
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let state = state.clone();
            async move {
                shutdown.await;
                state.alerts().close_streams();
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
    let api = Router::new()
        .merge(api::messages::router())
        .merge(api::incidents::router())
        .merge(api::alerts::router())
        .merge(api::auth::router())
        .merge(api::tenant::router())
        .merge(crate::privacy::api_router())
        .layer(cors)
        .layer(DefaultBodyLimit::max(config.max_body_bytes));
    Router::new()
        .merge(api)
        .merge(pixel::router())
        .merge(api::health::router())
        .merge(info::router())
        .merge(openapi::router())
        .fallback(|| async { crate::error::ApiError::NotFound("route") })
        // Spans name the path, never the query (the alert stream's `access_token`).
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}
