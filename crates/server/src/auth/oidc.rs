//! Per-tenant OpenID Connect for the Outlook add-in: Microsoft Entra ID access tokens,
//! verified against the tenant's JWKS.
//!
//! A tenant's settings (`tenants.oidc`, JSON) name the issuer, the audience (the add-in's
//! app id URI or client id), the JWKS URI and the Entra directory (`tid`). A token is routed
//! to a tenant by its *unverified* `iss` and `tid`, and then verified with that tenant's
//! settings only: RS256 and nothing else, a `kid` from the tenant's JWKS, `iss` and `aud`
//! exactly, `exp` and `nbf` with a small leeway, `tid` again. Entra signs every directory's
//! tokens with the same keys, so the routing claims alone decide nothing: the checked `iss`,
//! `aud` and `tid` do.
//!
//! JWKS are cached for `auth.jwks_ttl_seconds`; a token naming a key the cache does not have
//! triggers one refetch, but never more than one per `auth.jwks_min_refetch_seconds` per JWKS,
//! so forged tokens with random `kid`s cannot make the server hammer the identity provider.
//! If a refetch fails, the keys fetched last stay in use.
//!
//! Users are keyed on the directory and object id (`users.oidc_subject = "tid:oid"`). An
//! unknown identity is provisioned as a sender with the e-mail address of the token
//! (`preferred_username`, `email` or `upn`); an existing user of the tenant with that address
//! and no identity yet is linked instead. That trusts the tenant's own directory with its
//! users' addresses, which is what configuring it means.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::{AuthUser, Authenticator};
use crate::accounts::{AccountsError, Role};
use crate::kit::audit::{Action, Actor};
use crate::kit::config::AuthConfig;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::ids::random_id;
use crate::kit::ids::{TenantId, UserId};
use crate::kit::outbound::{self, HttpClient, Outbound};
use crate::kit::time::now_ms;

/// A fetched JWKS larger than this is refused.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Keys taken from one JWKS at most.
const MAX_KEYS: usize = 64;
/// RSA keys shorter than this (in bytes of modulus) are ignored: 2048 bits.
const MIN_MODULUS_BYTES: usize = 256;
/// How long the table of tenants' settings is used before it is read again.
const DIRECTORY_TTL: Duration = Duration::from_secs(30);
/// A token of an unknown issuer/directory rereads that table at most this often.
const DIRECTORY_MIN_RELOAD: Duration = Duration::from_secs(1);

/// A tenant's identity-provider settings, as stored in `tenants.oidc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OidcSettings {
    /// The `iss` of the tokens, exactly, e.g. `https://login.microsoftonline.com/{tid}/v2.0`.
    pub issuer: String,
    /// The `aud` of the tokens, exactly: the add-in's application id URI or client id.
    pub audience: String,
    /// Where the signing keys are, e.g.
    /// `https://login.microsoftonline.com/{tid}/discovery/v2.0/keys`.
    pub jwks_uri: String,
    /// The Entra directory id (`tid`).
    pub tenant_id: String,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> AccountsError {
    AccountsError::Invalid {
        field,
        reason: reason.into(),
    }
}

impl OidcSettings {
    /// Checks and normalises the settings: the issuer must be an https URL (http only on
    /// loopback; it is compared, never fetched); the JWKS URI is fetched, so it is under the
    /// outbound rule: resolved now, refused when an address is not public (unless the
    /// operator allows it), and https unless it points at such an allowed address (a local
    /// identity provider, tests). The directory id is lower-cased.
    pub async fn validated(self, outbound: &Outbound) -> Result<OidcSettings, AccountsError> {
        let issuer = self.issuer.trim().to_string();
        check_issuer(&issuer)?;
        let audience = self.audience.trim().to_string();
        if audience.is_empty() || audience.chars().any(char::is_whitespace) {
            return Err(invalid("audience", "must be one non-empty value"));
        }
        let jwks_uri = self.jwks_uri.trim().to_string();
        check_jwks_uri(&jwks_uri, outbound).await?;
        let tenant_id = self.tenant_id.trim().to_ascii_lowercase();
        if !is_identifier(&tenant_id) {
            return Err(invalid(
                "tenant_id",
                "must be the directory id (letters, digits, '-', '.', '_'; at most 64)",
            ));
        }
        Ok(OidcSettings {
            issuer,
            audience,
            jwks_uri,
            tenant_id,
        })
    }
}

/// Where the signing keys are fetched from: https, or http to an address that is not public
/// and that the operator allows (`outbound.allow_private`); every address checked.
async fn check_jwks_uri(text: &str, outbound: &Outbound) -> Result<(), AccountsError> {
    let field = "jwks_uri";
    let url = reqwest::Url::parse(text).map_err(|e| invalid(field, format!("'{text}': {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(field, format!("'{text}' must be an https URL")));
    }
    let addresses = match outbound.check_url(&url).await {
        Ok(addresses) => addresses,
        Err(e) if e.is_refused() => return Err(invalid(field, format!("'{text}': {e}"))),
        // Not resolvable now: checked again at every fetch.
        Err(_) => Vec::new(),
    };
    let local = !addresses.is_empty()
        && addresses
            .iter()
            .all(|a| outbound::not_public(a.ip()).is_some());
    if url.scheme() == "http" && !local {
        return Err(invalid(
            field,
            format!("'{text}' must be an https URL (http only to a loopback or private address, which the operator must allow with outbound.allow_private)"),
        ));
    }
    Ok(())
}

/// The issuer is compared with the tokens' `iss`, never fetched.
fn check_issuer(text: &str) -> Result<(), AccountsError> {
    let field = "issuer";
    let url = reqwest::Url::parse(text).map_err(|e| invalid(field, format!("'{text}': {e}")))?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(
            field,
            format!("'{text}' must be an https URL (http only on loopback)"),
        )),
    }
}

/// Directory and object ids: short, and free of the `:` that joins them into a subject.
fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// The verifier: the tenants' settings and their JWKS, cached.
pub struct Oidc {
    /// Under the outbound rule: a JWKS URI is a tenant's setting.
    http: HttpClient,
    outbound: Outbound,
    jwks_ttl: Duration,
    min_refetch: Duration,
    leeway: u64,
    required_scope: String,
    directory: Directory,
    jwks: Mutex<HashMap<String, Arc<JwksSlot>>>,
}

impl Oidc {
    pub fn new(config: &AuthConfig, outbound: &Outbound) -> anyhow::Result<Oidc> {
        let http = outbound.http_client(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .connect_timeout(Duration::from_secs(3))
                .user_agent(concat!("leakwatch/", env!("CARGO_PKG_VERSION"))),
        )?;
        Ok(Oidc {
            http,
            outbound: outbound.clone(),
            jwks_ttl: Duration::from_secs(config.jwks_ttl_seconds),
            min_refetch: Duration::from_secs(config.jwks_min_refetch_seconds),
            leeway: config.oidc_leeway_seconds,
            required_scope: config.entra_required_scope.trim().to_string(),
            directory: Directory::default(),
            jwks: Mutex::new(HashMap::new()),
        })
    }

    /// What JWKS URIs may connect to; settings are checked with it when saved.
    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Forgets the cached tenant settings (after they changed through this server).
    pub fn invalidate_tenants(&self) {
        self.directory.invalidate();
    }

    /// The verification key `kid` of the JWKS at `uri`.
    async fn key(&self, uri: &str, kid: &str) -> Option<Arc<DecodingKey>> {
        let slot = {
            let mut slots = self.jwks.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(uri.to_string()).or_default().clone()
        };
        if let Some(found) = slot.decide(kid, self.jwks_ttl, self.min_refetch) {
            return found;
        }
        // One fetch at a time per JWKS; whoever waited sees its result.
        let _fetching = slot.fetching.lock().await;
        if let Some(found) = slot.decide(kid, self.jwks_ttl, self.min_refetch) {
            return found;
        }
        slot.state().last_attempt = Some(Instant::now());
        metrics::counter!("leakwatch_jwks_fetches_total").increment(1);
        match self.fetch(uri).await {
            Ok(keys) => {
                let mut state = slot.state();
                state.keys = keys;
                state.fetched_at = Some(Instant::now());
            }
            Err(e) => {
                tracing::warn!(jwks_uri = %uri, error = %format!("{e:#}"), "cannot fetch the JWKS; keeping the keys fetched before");
            }
        }
        let key = slot.state().keys.get(kid).cloned();
        key
    }

    async fn fetch(&self, uri: &str) -> anyhow::Result<HashMap<String, Arc<DecodingKey>>> {
        let mut response = self
            .http
            .request(reqwest::Method::GET, uri)?
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(outbound::describe(&e)))?
            .error_for_status()?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_JWKS_BYTES {
                anyhow::bail!("the JWKS is larger than {MAX_JWKS_BYTES} bytes");
            }
        }
        parse_jwks(&body)
    }
}

#[derive(Default)]
struct JwksSlot {
    state: Mutex<JwksState>,
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct JwksState {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl JwksSlot {
    fn state(&self) -> std::sync::MutexGuard<'_, JwksState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(answer)` when no fetch is wanted or allowed; `None` to fetch.
    fn decide(
        &self,
        kid: &str,
        ttl: Duration,
        min_refetch: Duration,
    ) -> Option<Option<Arc<DecodingKey>>> {
        let state = self.state();
        let fresh = state.fetched_at.is_some_and(|at| at.elapsed() < ttl);
        let may_fetch = state
            .last_attempt
            .is_none_or(|at| at.elapsed() >= min_refetch);
        match state.keys.get(kid) {
            Some(key) if fresh || !may_fetch => Some(Some(key.clone())),
            None if !may_fetch => Some(None),
            _ => None,
        }
    }
}

/// The RSA signing keys of a JWKS document, by `kid`. Keys for other uses or algorithms,
/// without a `kid`, or shorter than 2048 bits are left out.
pub fn parse_jwks(body: &[u8]) -> anyhow::Result<HashMap<String, Arc<DecodingKey>>> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Jwk {
        kty: String,
        kid: Option<String>,
        #[serde(rename = "use")]
        use_: Option<String>,
        alg: Option<String>,
        n: Option<String>,
        e: Option<String>,
    }
    let set: Set = serde_json::from_slice(body)?;
    let mut keys = HashMap::new();
    for value in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let usable = jwk.kty == "RSA"
            && jwk.use_.as_deref().is_none_or(|u| u == "sig")
            && jwk.alg.as_deref().is_none_or(|a| a == "RS256");
        let (Some(kid), Some(n), Some(e), true) = (jwk.kid, jwk.n, jwk.e, usable) else {
            continue;
        };
        let long_enough = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(n.trim_end_matches('='))
            .map(|bytes| bytes.iter().skip_while(|b| **b == 0).count() >= MIN_MODULUS_BYTES)
            .unwrap_or(false);
        if !long_enough {
            continue;
        }
        if let Ok(key) = DecodingKey::from_rsa_components(&n, &e) {
            keys.insert(kid, Arc::new(key));
        }
        if keys.len() >= MAX_KEYS {
            break;
        }
    }
    Ok(keys)
}

/// The tenants' settings by (issuer, directory), read from the database and cached.
#[derive(Default)]
struct Directory {
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    reloading: tokio::sync::Mutex<()>,
}

struct Snapshot {
    loaded: Instant,
    tenants: HashMap<(String, String), TenantOidc>,
}

#[derive(Debug, Clone)]
struct TenantOidc {
    tenant_id: String,
    settings: OidcSettings,
}

impl Directory {
    fn current(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn invalidate(&self) {
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    async fn find(&self, db: &Db, issuer: &str, tid: &str) -> ApiResult<Option<TenantOidc>> {
        let key = (issuer.to_string(), tid.to_ascii_lowercase());
        if let Some(snapshot) = self.current() {
            let age = snapshot.loaded.elapsed();
            if age < DIRECTORY_TTL {
                if let Some(found) = snapshot.tenants.get(&key) {
                    return Ok(Some(found.clone()));
                }
                if age < DIRECTORY_MIN_RELOAD {
                    return Ok(None);
                }
            }
        }
        let _reloading = self.reloading.lock().await;
        if let Some(snapshot) = self.current() {
            if snapshot.loaded.elapsed() < DIRECTORY_MIN_RELOAD {
                return Ok(snapshot.tenants.get(&key).cloned());
            }
        }
        let mut tenants = HashMap::new();
        for (tenant_id, settings) in oidc_tenants(db).await? {
            let key = (
                settings.issuer.clone(),
                settings.tenant_id.to_ascii_lowercase(),
            );
            tenants.insert(
                key,
                TenantOidc {
                    tenant_id,
                    settings,
                },
            );
        }
        let snapshot = Arc::new(Snapshot {
            loaded: Instant::now(),
            tenants,
        });
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot.clone());
        Ok(snapshot.tenants.get(&key).cloned())
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::Unauthorized(message.to_string())
}

/// The claims a token is routed by, read before anything is verified.
#[derive(Deserialize)]
struct Routing {
    iss: String,
    tid: String,
}

fn peek_routing(token: &str) -> ApiResult<Routing> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(unauthorized("malformed token"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| unauthorized("malformed token"))?;
    serde_json::from_slice(&bytes).map_err(|_| unauthorized("the token has no issuer or directory"))
}

/// The verified claims of an Entra access token that leakwatch uses.
#[derive(Debug, Deserialize)]
struct EntraClaims {
    iss: String,
    aud: String,
    tid: String,
    oid: String,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    upn: Option<String>,
    /// `app` for tokens of an application acting as itself.
    #[serde(default)]
    idtyp: Option<String>,
    /// The delegated permissions, space-separated.
    #[serde(default)]
    scp: Option<String>,
}

/// Verifies an identity-provider token and returns its (perhaps new) user.
pub async fn authenticate(state: &Authenticator, token: &str) -> ApiResult<AuthUser> {
    let oidc = state.oidc();
    let header = decode_header(token).map_err(|_| unauthorized("malformed token"))?;
    if header.alg != Algorithm::RS256 {
        return Err(unauthorized(&format!(
            "algorithm {:?} is not accepted",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| unauthorized("token has no key id"))?;
    let routing = peek_routing(token)?;
    let tenant = oidc
        .directory
        .find(state.db(), &routing.iss, &routing.tid)
        .await?
        .ok_or_else(|| unauthorized("no tenant accepts tokens of this issuer and directory"))?;
    let settings = &tenant.settings;
    let key = oidc
        .key(&settings.jwks_uri, &kid)
        .await
        .ok_or_else(|| unauthorized("unknown signing key"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = vec![Algorithm::RS256];
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.leeway = oidc.leeway;
    let claims = decode::<EntraClaims>(token, &key, &validation)
        .map_err(|e| unauthorized(&super::rejection(&e)))?
        .claims;
    // Exactly one issuer, one audience, the configured directory.
    if claims.iss != settings.issuer || claims.aud != settings.audience {
        return Err(unauthorized("the token has another issuer or audience"));
    }
    let tid = claims.tid.to_ascii_lowercase();
    if tid != settings.tenant_id {
        return Err(unauthorized("the token is of another directory"));
    }
    if claims.idtyp.as_deref() == Some("app") {
        return Err(unauthorized("application tokens are not accepted"));
    }
    let scopes = claims.scp.as_deref().unwrap_or_default();
    if !oidc.required_scope.is_empty() && !scopes.split(' ').any(|s| s == oidc.required_scope) {
        return Err(unauthorized(
            "the token does not carry leakwatch's permission (scp)",
        ));
    }
    let oid = claims.oid.to_ascii_lowercase();
    if !is_identifier(&oid) {
        return Err(unauthorized("the token's object id is malformed"));
    }
    let subject = format!("{tid}:{oid}");
    let email = [&claims.preferred_username, &claims.email, &claims.upn]
        .into_iter()
        .flatten()
        .find_map(|candidate| crate::accounts::normalise_email(candidate).ok());
    provision(state.db(), &tenant.tenant_id, &subject, email.as_deref()).await
}

struct Found {
    user: AuthUser,
    subject: Option<String>,
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<Found, sqlx::Error> {
    Ok(Found {
        user: AuthUser {
            user_id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            email: row.try_get("email")?,
            role: Role::parse(&row.try_get::<String, _>("role")?),
        },
        subject: row.try_get("oidc_subject")?,
    })
}

async fn user_by_subject(db: &Db, subject: &str) -> ApiResult<Option<Found>> {
    let row = sqlx::query(
        "SELECT id, tenant_id, email, role, oidc_subject FROM users WHERE oidc_subject = $1",
    )
    .bind(subject)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| user_from_row(&r)).transpose()?)
}

/// A user created or linked by a first sign-in, in the audit log (actor: `oidc`).
async fn audit_provisioning(
    db: &Db,
    user: &AuthUser,
    action: Action,
    subject: &str,
) -> Result<(), sqlx::Error> {
    crate::kit::audit::record(
        &db.pool,
        &user.tenant_id,
        &Actor::system("oidc"),
        action,
        ("user", user.user_id.as_str()),
        serde_json::json!({"email": user.email, "role": user.role.as_str(), "oidc_subject": subject}),
        now_ms(),
    )
    .await
}

/// The user of `subject` in `tenant_id`: found, linked by e-mail address, or created.
async fn provision(
    db: &Db,
    tenant_id: &str,
    subject: &str,
    email: Option<&str>,
) -> ApiResult<AuthUser> {
    // Two rounds: a concurrent first request of the same identity may win the first.
    for _ in 0..2 {
        if let Some(found) = user_by_subject(db, subject).await? {
            if found.user.tenant_id != *tenant_id {
                tracing::warn!(%subject, "an identity of one tenant's directory is a user of another tenant");
                return Err(unauthorized("this identity belongs to another tenant"));
            }
            return Ok(found.user);
        }
        let email = email.ok_or_else(|| unauthorized("the token names no e-mail address"))?;
        let existing = sqlx::query(
            "SELECT id, tenant_id, email, role, oidc_subject FROM users WHERE tenant_id = $1 AND email = $2",
        )
        .bind(tenant_id)
        .bind(email)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| user_from_row(&r))
        .transpose()?;
        match existing {
            Some(Found {
                subject: Some(_), ..
            }) => {
                tracing::warn!(%subject, %email, "the e-mail address of an identity is linked to another identity");
                return Err(unauthorized(
                    "this e-mail address belongs to another identity of the tenant",
                ));
            }
            Some(Found {
                user,
                subject: None,
            }) => {
                let linked = sqlx::query(
                    "UPDATE users SET oidc_subject = $1 WHERE id = $2 AND oidc_subject IS NULL",
                )
                .bind(subject)
                .bind(&user.user_id)
                .execute(&db.pool)
                .await?;
                if linked.rows_affected() == 1 {
                    tracing::info!(user = %user.user_id, %subject, "linked an existing user to its identity");
                    audit_provisioning(db, &user, Action::UserChanged, subject).await?;
                    return Ok(user);
                }
            }
            None => {
                let id = random_id();
                let inserted = sqlx::query(
                    "INSERT INTO users (id, tenant_id, email, role, oidc_subject, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(tenant_id)
                .bind(email)
                .bind(Role::Sender.as_str())
                .bind(subject)
                .bind(now_ms())
                .execute(&db.pool)
                .await?;
                if inserted.rows_affected() == 1 {
                    tracing::info!(user = %id, %subject, "provisioned a user from its identity");
                    let user = AuthUser {
                        user_id: UserId::from(id),
                        tenant_id: TenantId::from(tenant_id),
                        email: email.to_string(),
                        role: Role::Sender,
                    };
                    audit_provisioning(db, &user, Action::UserAdded, subject).await?;
                    return Ok(user);
                }
            }
        }
    }
    Err(unauthorized("cannot provision this identity; try again"))
}

/// A tenant's OpenID Connect settings, if it has any.
pub async fn tenant_oidc(
    db: &Db,
    tenant_id: &TenantId,
) -> Result<Option<OidcSettings>, AccountsError> {
    let row = sqlx::query("SELECT oidc FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else {
        return Err(AccountsError::NoTenant(tenant_id.to_string()));
    };
    let oidc: Option<String> = row.try_get("oidc")?;
    Ok(oidc.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Every tenant that accepts identity-provider tokens: (tenant id, settings).
pub async fn oidc_tenants(db: &Db) -> Result<Vec<(String, OidcSettings)>, AccountsError> {
    let rows = sqlx::query("SELECT id, oidc FROM tenants WHERE oidc IS NOT NULL")
        .fetch_all(&db.pool)
        .await?;
    let mut tenants = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let text: String = row.try_get("oidc")?;
        match serde_json::from_str::<OidcSettings>(&text) {
            Ok(settings) => tenants.push((id, settings)),
            Err(e) => tracing::warn!(tenant = %id, error = %e, "unreadable OIDC settings ignored"),
        }
    }
    Ok(tenants)
}

/// Sets a tenant's OpenID Connect settings (validated; `None` turns OIDC off). A directory
/// (`tenant_id`) can belong to one leakwatch tenant only, since users are keyed on it.
/// Audit-logged as the command line's doing.
pub async fn set_tenant_oidc(
    db: &Db,
    tenant_id: &TenantId,
    settings: Option<OidcSettings>,
    outbound: &Outbound,
) -> Result<Option<OidcSettings>, AccountsError> {
    set_tenant_oidc_by(db, tenant_id, settings, &Actor::system("cli"), outbound).await
}

/// [`set_tenant_oidc`], audit-logged as done by `actor`.
pub async fn set_tenant_oidc_by(
    db: &Db,
    tenant_id: &TenantId,
    settings: Option<OidcSettings>,
    actor: &Actor,
    outbound: &Outbound,
) -> Result<Option<OidcSettings>, AccountsError> {
    let settings = match settings {
        Some(settings) => Some(settings.validated(outbound).await?),
        None => None,
    };
    if let Some(settings) = &settings {
        for (other, theirs) in oidc_tenants(db).await? {
            if tenant_id.as_str() != other
                && theirs.tenant_id.eq_ignore_ascii_case(&settings.tenant_id)
            {
                return Err(AccountsError::Conflict(format!(
                    "directory {} is already configured for another tenant",
                    settings.tenant_id
                )));
            }
        }
    }
    let text = settings
        .as_ref()
        .map(|s| serde_json::to_string(s).expect("OIDC settings serialise"));
    let mut tx = db.pool.begin().await?;
    let updated = sqlx::query("UPDATE tenants SET oidc = $1 WHERE id = $2")
        .bind(text)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AccountsError::NoTenant(tenant_id.to_string()));
    }
    crate::kit::audit::record(
        &mut *tx,
        tenant_id,
        actor,
        Action::OidcChanged,
        ("tenant", tenant_id.as_str()),
        serde_json::to_value(&settings).unwrap_or_default(),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::config::OutboundConfig;
    use crate::kit::outbound::Resolver;

    fn settings(issuer: &str, jwks: &str, tid: &str) -> OidcSettings {
        OidcSettings {
            issuer: issuer.into(),
            audience: "api://addin".into(),
            jwks_uri: jwks.into(),
            tenant_id: tid.into(),
        }
    }

    fn names() -> Resolver {
        Resolver::table()
            .with("login.microsoftonline.com", &["20.190.160.1"])
            .with("example.com", &["93.184.215.14"])
            .with("localhost", &["127.0.0.1", "::1"])
            .with("evil.test", &["127.0.0.1"])
            .with("mapped.test", &["::ffff:10.0.0.1"])
            .with("keys.10.0.0.1.wildcard.test", &["10.0.0.1"])
    }

    fn rule(allow_private: bool) -> Outbound {
        Outbound::new(&OutboundConfig { allow_private }, names())
    }

    #[tokio::test]
    async fn settings_are_validated() {
        let strict = rule(false);
        let ok = settings(
            "https://login.microsoftonline.com/T/v2.0",
            "https://login.microsoftonline.com/T/discovery/v2.0/keys",
            " 72F988BF-86F1-41AF-91AB-2D7CD011DB47 ",
        )
        .validated(&strict)
        .await
        .unwrap();
        assert_eq!(ok.tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
        // A local identity provider over http, where the operator allows it.
        for local in ["http://127.0.0.1:9/jwks", "http://localhost:9/jwks"] {
            assert!(settings("https://i", local, "t")
                .validated(&rule(true))
                .await
                .is_ok());
        }
        for bad in [
            settings("https://i", "http://example.com/jwks", "t"),
            settings("https://i", "http://unresolvable.example/jwks", "t"),
            settings("https://i", "file:///etc/passwd", "t"),
            settings("not a url", "https://k", "t"),
            settings("https://i", "https://k", "a:b"),
            settings("https://i", "https://k", ""),
            OidcSettings {
                audience: " ".into(),
                ..settings("https://i", "https://k", "t")
            },
        ] {
            assert!(bad.clone().validated(&rule(true)).await.is_err(), "{bad:?}");
        }
    }

    /// Issue 16, finding 3: loopback over http on any port and path, private addresses over
    /// https, by address or by name, were accepted as a JWKS URI.
    #[tokio::test]
    async fn jwks_uris_in_private_networks_are_refused_when_saved() {
        let strict = rule(false);
        for (uri, words) in [
            (
                "http://127.0.0.1:6379/anything",
                "127.0.0.1 is a loopback address",
            ),
            (
                "http://localhost:9/jwks",
                "'localhost' resolves to 127.0.0.1, a loopback address",
            ),
            ("http://[::1]:8080/x", "::1 is a loopback address"),
            (
                "https://10.0.0.1/keys",
                "10.0.0.1 is a private-network address",
            ),
            (
                "https://169.254.169.254/latest/meta-data",
                "a link-local address",
            ),
            (
                "https://[::ffff:169.254.169.254]/keys",
                "an IPv4-mapped form of 169.254.169.254",
            ),
            (
                "https://evil.test/keys",
                "'evil.test' resolves to 127.0.0.1",
            ),
            (
                "https://mapped.test/keys",
                "an IPv4-mapped form of 10.0.0.1, a private-network address",
            ),
            (
                "https://keys.10.0.0.1.wildcard.test/k",
                "resolves to 10.0.0.1",
            ),
        ] {
            let err = settings("https://i", uri, "t")
                .validated(&strict)
                .await
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("jwks_uri")
                    && err.contains(words)
                    && err.contains("outbound.allow_private"),
                "{uri}: {err}"
            );
        }
    }

    /// The same at fetch time, for settings stored before (or a name that resolves
    /// elsewhere by then): nothing is fetched, and the log says why.
    #[tokio::test]
    async fn a_refused_jwks_uri_is_not_fetched() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(500), listener.accept())
                .await
                .is_ok()
        });
        let oidc = Oidc::new(&AuthConfig::default(), &rule(false)).unwrap();
        for uri in [
            format!("http://127.0.0.1:{port}/keys"),
            format!("http://localhost:{port}/keys"),
            format!("http://evil.test:{port}/keys"),
            format!("http://[::ffff:127.0.0.1]:{port}/keys"),
        ] {
            let err = format!("{:#}", oidc.fetch(&uri).await.unwrap_err());
            assert!(err.contains("a loopback address"), "{uri}: {err}");
            assert!(oidc.key(&uri, "kid").await.is_none());
        }
        assert!(!accepted.await.unwrap(), "no connection was made");
    }

    #[test]
    fn jwks_keeps_only_rsa_signing_keys() {
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xc5u8; 256]);
        let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xc5u8; 128]);
        let doc = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good", "use": "sig", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "noalg", "n": n, "e": "AQAB", "x5c": ["..."]},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "short", "n": short, "e": "AQAB"},
            {"kty": "RSA", "n": n, "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            "garbage"
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
        let mut kids: Vec<_> = keys.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, ["good", "noalg"]);
        assert!(parse_jwks(b"{}").is_err());
    }

    #[test]
    fn routing_claims_are_read_without_verifying() {
        let encode = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = format!(
            "{}.{}.sig",
            encode(serde_json::json!({"alg": "RS256"})),
            encode(serde_json::json!({"iss": "https://i", "tid": "t"}))
        );
        let routing = peek_routing(&token).unwrap();
        assert_eq!(
            (routing.iss.as_str(), routing.tid.as_str()),
            ("https://i", "t")
        );
        assert!(peek_routing("a.b").is_err());
        assert!(peek_routing("a.b.c.d").is_err());
        let no_tid = format!("x.{}.y", encode(serde_json::json!({"iss": "https://i"})));
        assert!(peek_routing(&no_tid).is_err());
    }
}
