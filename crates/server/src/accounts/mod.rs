//! Tenants and users: the store the command line (`leakwatch tenant|user|token`), sign-in
//! and every tenant-scoped query stand on. It has no HTTP of its own: authentication stands
//! on it, and every handler stands on authentication. The tenant's check policy is served
//! by [`crate::policy`]; other features' tenant settings (identity provider, alerts,
//! privacy) live with those features.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::kit::audit::{Action, Actor};
use crate::kit::db::Db;
use crate::kit::error::ApiError;
use crate::kit::ids::{TenantId, UserId};
use crate::kit::time::{now_ms, Zone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// What a user may do in their tenant: a sender follows her own messages and incidents; a
/// privacy officer also keeps the tenant's breach register, decides incidents and reads the
/// audit log; an admin does all of that and manages the tenant (policy, users, settings).
pub enum Role {
    Sender,
    PrivacyOfficer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Sender, Role::PrivacyOfficer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sender => "sender",
            Role::PrivacyOfficer => "privacy_officer",
            Role::Admin => "admin",
        }
    }

    /// A stored role; anything unknown is the least privileged.
    pub fn parse(text: &str) -> Role {
        Role::from_name(text).unwrap_or(Role::Sender)
    }

    /// A role named by a client, or `None`.
    pub fn from_name(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Sees every incident of the tenant (the breach register) and decides them.
    pub fn keeps_register(self) -> bool {
        matches!(self, Role::PrivacyOfficer | Role::Admin)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("no tenant named '{0}'")]
    NoTenant(String),
    #[error("no user {email} in tenant '{tenant}'")]
    NoUser { tenant: String, email: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0:#}")]
    Internal(anyhow::Error),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<AccountsError> for ApiError {
    fn from(err: AccountsError) -> Self {
        match err {
            AccountsError::NoTenant(_) => ApiError::NotFound("tenant"),
            AccountsError::NoUser { .. } => ApiError::NotFound("user"),
            AccountsError::Invalid { .. } => ApiError::BadRequest(err.to_string()),
            AccountsError::Conflict(message) => ApiError::Conflict(message),
            AccountsError::Internal(e) => ApiError::Internal(e),
            AccountsError::Db(e) => e.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub domain: String,
    pub policy: leakwatch_core::Policy,
    /// Where people read the tenant's times (set in the privacy settings).
    pub time_zone: Zone,
}

/// Creates a tenant; idempotent on the name (an existing tenant is returned unchanged).
/// The domain becomes the policy's first internal domain.
pub async fn create_tenant(
    db: &Db,
    name: &str,
    domain: &str,
) -> Result<(Tenant, bool), AccountsError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AccountsError::Invalid {
            field: "name",
            reason: "is empty".into(),
        });
    }
    let domain = leakwatch_core::address::domain_to_ascii(domain.trim()).ok_or_else(|| {
        AccountsError::Invalid {
            field: "domain",
            reason: format!("'{domain}' is not a domain name"),
        }
    })?;
    if let Some(existing) = tenant_by_name(db, name).await? {
        return Ok((existing, false));
    }
    let policy = leakwatch_core::Policy {
        internal_domains: vec![domain.clone()],
        ..leakwatch_core::Policy::default()
    };
    let tenant = Tenant {
        id: TenantId::random(),
        name: name.to_string(),
        domain,
        policy,
        time_zone: Zone::default(),
    };
    let inserted = sqlx::query(
        "INSERT INTO tenants (id, name, domain, policy, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
    )
    .bind(&tenant.id)
    .bind(&tenant.name)
    .bind(&tenant.domain)
    .bind(serde_json::to_string(&tenant.policy).expect("a policy serialises"))
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    if inserted.rows_affected() == 0 {
        // Created concurrently by another server or process.
        let existing = tenant_by_name(db, name)
            .await?
            .ok_or_else(|| AccountsError::NoTenant(name.into()))?;
        return Ok((existing, false));
    }
    Ok((tenant, true))
}

pub async fn tenant_by_name(db: &Db, name: &str) -> Result<Option<Tenant>, AccountsError> {
    let row =
        sqlx::query("SELECT id, name, domain, policy, time_zone FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|row| tenant_from_row(&row)).transpose()
}

pub async fn tenant_by_id(db: &Db, id: &TenantId) -> Result<Option<Tenant>, AccountsError> {
    let row = sqlx::query("SELECT id, name, domain, policy, time_zone FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| tenant_from_row(&row)).transpose()
}

/// A tenant's check policy that has passed the boundary: its disclosure texts valid, every
/// threshold in its range and every domain list made of domain names. Only such a policy is stored.
#[derive(Debug, Clone)]
pub struct ValidPolicy(leakwatch_core::Policy);

impl TryFrom<leakwatch_core::Policy> for ValidPolicy {
    type Error = AccountsError;

    fn try_from(policy: leakwatch_core::Policy) -> Result<ValidPolicy, AccountsError> {
        policy
            .disclosure
            .validate()
            .map_err(|e| AccountsError::Invalid {
                field: "disclosure",
                reason: e.to_string(),
            })?;
        policy
            .thresholds
            .check()
            .map_err(|e| AccountsError::Invalid {
                field: e.field,
                reason: e.reason(),
            })?;
        for (field, domains) in [
            ("internal_domains", &policy.internal_domains),
            ("trusted_domains", &policy.trusted_domains),
            ("blocked_domains", &policy.blocked_domains),
        ] {
            if let Some(bad) = domains
                .iter()
                .find(|d| leakwatch_core::address::domain_to_ascii(d).is_none())
            {
                return Err(AccountsError::Invalid {
                    field,
                    reason: format!("'{bad}' is not a domain name"),
                });
            }
        }
        Ok(ValidPolicy(policy))
    }
}

impl ValidPolicy {
    pub fn policy(&self) -> &leakwatch_core::Policy {
        &self.0
    }

    pub fn into_policy(self) -> leakwatch_core::Policy {
        self.0
    }
}

/// Replaces a tenant's check policy and records who did it, in one transaction.
pub async fn set_tenant_policy(
    db: &Db,
    tenant_id: &TenantId,
    policy: &ValidPolicy,
    actor: &crate::kit::audit::Actor,
) -> Result<(), AccountsError> {
    let policy = policy.policy();
    let mut tx = db.pool.begin().await?;
    let now = now_ms();
    let updated = sqlx::query("UPDATE tenants SET policy = $1 WHERE id = $2")
        .bind(serde_json::to_string(policy).expect("a policy serialises"))
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
        crate::kit::audit::Action::PolicyChanged,
        ("tenant", tenant_id.as_str()),
        serde_json::to_value(policy).unwrap_or_default(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn tenant_from_row(row: &sqlx::any::AnyRow) -> Result<Tenant, AccountsError> {
    let policy: String = row.try_get("policy")?;
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        domain: row.try_get("domain")?,
        // A policy written by a newer version still parses: unknown fields are ignored.
        policy: serde_json::from_str(&policy).unwrap_or_default(),
        time_zone: Zone::stored(&row.try_get::<String, _>("time_zone")?),
    })
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: String,
    pub role: Role,
}

/// Adds a user to a tenant. An existing user keeps its id; `--admin` promotes it.
/// Audit-logged as the command line's doing ([`add_user_by`] names another actor).
pub async fn add_user(
    db: &Db,
    tenant: &str,
    email: &str,
    admin: bool,
) -> Result<(User, bool), AccountsError> {
    add_user_by(db, tenant, email, admin, &Actor::system("cli")).await
}

/// [`add_user`], recorded in the audit log as done by `actor` (with the change, in one
/// transaction).
pub async fn add_user_by(
    db: &Db,
    tenant: &str,
    email: &str,
    admin: bool,
    actor: &Actor,
) -> Result<(User, bool), AccountsError> {
    add_user_as(db, tenant, email, admin.then_some(Role::Admin), actor).await
}

/// Adds a user with `role` (a sender when `None`); an existing user keeps its id and gets
/// `role` when one is given (`None` leaves it as it is). Audit-logged as done by `actor`.
pub async fn add_user_as(
    db: &Db,
    tenant: &str,
    email: &str,
    role: Option<Role>,
    actor: &Actor,
) -> Result<(User, bool), AccountsError> {
    let tenant = tenant_by_name(db, tenant)
        .await?
        .ok_or_else(|| AccountsError::NoTenant(tenant.into()))?;
    let email = normalise_email(email)?;
    if let Some(existing) = user_by_email(db, &tenant.id, &email).await? {
        if let Some(role) = role.filter(|r| *r != existing.role) {
            let mut tx = db.pool.begin().await?;
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(&existing.id)
                .execute(&mut *tx)
                .await?;
            audit_user(
                &mut tx,
                &existing,
                actor,
                Action::UserChanged,
                serde_json::json!({"email": existing.email, "role": role.as_str()}),
            )
            .await?;
            tx.commit().await?;
            return Ok((User { role, ..existing }, false));
        }
        return Ok((existing, false));
    }
    let user = User {
        id: UserId::random(),
        tenant_id: tenant.id,
        email,
        role: role.unwrap_or(Role::Sender),
    };
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, role, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&user.id)
    .bind(&user.tenant_id)
    .bind(&user.email)
    .bind(user.role.as_str())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    audit_user(
        &mut tx,
        &user,
        actor,
        Action::UserAdded,
        serde_json::json!({"email": user.email, "role": user.role.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok((user, true))
}

/// An audit entry about a user, in the transaction of the change.
async fn audit_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &User,
    actor: &Actor,
    action: Action,
    detail: serde_json::Value,
) -> Result<(), sqlx::Error> {
    crate::kit::audit::record(
        &mut **tx,
        &user.tenant_id,
        actor,
        action,
        ("user", user.id.as_str()),
        detail,
        now_ms(),
    )
    .await
}

/// An e-mail address as users are stored: local part and domain lower-cased, the domain in
/// ASCII.
pub fn normalise_email(email: &str) -> Result<String, AccountsError> {
    let address =
        leakwatch_core::address::parse_addr_spec(email).map_err(|e| AccountsError::Invalid {
            field: "email",
            reason: e.to_string(),
        })?;
    Ok(format!("{}@{}", address.local, address.domain))
}

pub async fn user_by_email(
    db: &Db,
    tenant_id: &TenantId,
    email: &str,
) -> Result<Option<User>, AccountsError> {
    let row = sqlx::query(
        "SELECT id, tenant_id, email, role FROM users WHERE tenant_id = $1 AND email = $2",
    )
    .bind(tenant_id)
    .bind(email.to_lowercase())
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| {
        Ok(User {
            id: row.try_get("id")?,
            tenant_id: row.try_get("tenant_id")?,
            email: row.try_get("email")?,
            role: Role::parse(&row.try_get::<String, _>("role")?),
        })
    })
    .transpose()
}

/// Finds the user named by tenant name and e-mail address.
pub async fn find_user(db: &Db, tenant: &str, email: &str) -> Result<User, AccountsError> {
    let tenant_row = tenant_by_name(db, tenant)
        .await?
        .ok_or_else(|| AccountsError::NoTenant(tenant.into()))?;
    user_by_email(db, &tenant_row.id, email.trim())
        .await?
        .ok_or_else(|| AccountsError::NoUser {
            tenant: tenant.into(),
            email: email.into(),
        })
}

/// Sets (or, with an empty `password`, refuses) a user's password: argon2id, checked against
/// [`crate::kit::password::check_rules`] first. Audit-logged as the command line's doing.
pub async fn set_password(
    db: &Db,
    tenant: &str,
    email: &str,
    password: &str,
) -> Result<User, AccountsError> {
    set_password_by(db, tenant, email, password, &Actor::system("cli")).await
}

/// [`set_password`], audit-logged as done by `actor` (never the password).
pub async fn set_password_by(
    db: &Db,
    tenant: &str,
    email: &str,
    password: &str,
    actor: &Actor,
) -> Result<User, AccountsError> {
    crate::kit::password::check_rules(password).map_err(|e| AccountsError::Invalid {
        field: "password",
        reason: e.to_string(),
    })?;
    let user = find_user(db, tenant, email).await?;
    store_password(db, &user, password, actor, "set").await?;
    Ok(user)
}

/// Hashes and stores a password that passed the rules, audit-logged as `how` ("set" by the
/// command line, "reset" by an admin), never the password itself.
async fn store_password(
    db: &Db,
    user: &User,
    password: &str,
    actor: &Actor,
    how: &str,
) -> Result<(), AccountsError> {
    let hash = crate::kit::password::hash(password.to_string())
        .await
        .map_err(AccountsError::Internal)?;
    let mut tx = db.pool.begin().await?;
    // Tokens issued before the change stop working (ADR 0009): a leaked or guessed password
    // is changed precisely to lock out whoever else holds it.
    sqlx::query("UPDATE users SET password_hash = $1, tokens_valid_after = $4 WHERE id = $2 AND tenant_id = $3")
        .bind(hash)
        .bind(&user.id)
        .bind(&user.tenant_id)
        .bind(crate::kit::time::now_ms() / 1000)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"email": user.email, "password": how});
    audit_user(&mut tx, user, actor, Action::UserChanged, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a user's password: from then on only tokens (or the identity provider) let them in.
/// Audit-logged as the command line's doing.
pub async fn clear_password(db: &Db, tenant: &str, email: &str) -> Result<User, AccountsError> {
    clear_password_by(db, tenant, email, &Actor::system("cli")).await
}

/// [`clear_password`], audit-logged as done by `actor`.
pub async fn clear_password_by(
    db: &Db,
    tenant: &str,
    email: &str,
    actor: &Actor,
) -> Result<User, AccountsError> {
    let user = find_user(db, tenant, email).await?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = NULL, tokens_valid_after = $2 WHERE id = $1")
        .bind(&user.id)
        .bind(crate::kit::time::now_ms() / 1000)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"email": user.email, "password": "removed"});
    audit_user(&mut tx, &user, actor, Action::UserChanged, detail).await?;
    tx.commit().await?;
    Ok(user)
}

/// A user as the tenant's admins manage it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserEntry {
    #[schema(value_type = String)]
    pub id: UserId,
    pub email: String,
    /// `sender`, `privacy_officer` or `admin`.
    pub role: String,
    /// Whether a password is set (the hash itself never leaves the store).
    pub has_password: bool,
    /// Whether the user signs in through the tenant's identity provider.
    pub linked_to_identity_provider: bool,
    /// When the user was disabled (Unix ms); a disabled user cannot sign in or use tokens.
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

const USER_ENTRY_SQL: &str = "SELECT id, email, role, password_hash IS NOT NULL AS has_password, \
     oidc_subject IS NOT NULL AS linked, disabled_at, created_at FROM users";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<UserEntry, sqlx::Error> {
    Ok(UserEntry {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&row.try_get::<String, _>("role")?)
            .as_str()
            .to_string(),
        has_password: flag(row, "has_password")?,
        linked_to_identity_provider: flag(row, "linked")?,
        disabled_at: row.try_get("disabled_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A boolean expression's value: PostgreSQL answers a bool, SQLite an integer.
fn flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    row.try_get::<bool, _>(column)
        .or_else(|_| row.try_get::<i64, _>(column).map(|v| v != 0))
}

/// The tenant's users, by e-mail address.
pub async fn list_users(db: &Db, tenant_id: &TenantId) -> Result<Vec<UserEntry>, AccountsError> {
    let rows = sqlx::query(&format!(
        "{USER_ENTRY_SQL} WHERE tenant_id = $1 ORDER BY email"
    ))
    .bind(tenant_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(entry_from_row).collect::<Result<_, _>>()?)
}

/// One user of the tenant.
pub async fn user_entry(
    db: &Db,
    tenant_id: &TenantId,
    user_id: &UserId,
) -> Result<UserEntry, AccountsError> {
    let row = sqlx::query(&format!(
        "{USER_ENTRY_SQL} WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| AccountsError::NoUser {
        tenant: tenant_id.to_string(),
        email: user_id.to_string(),
    })?;
    Ok(entry_from_row(&row)?)
}

/// Invites a new user into a tenant with a role and a first password (which the admin hands
/// over; the user can be given a new one by [`reset_password_by`]). Audit-logged.
pub async fn invite_user_by(
    db: &Db,
    tenant_id: &TenantId,
    email: &str,
    role: Role,
    password: &str,
    actor: &Actor,
) -> Result<UserEntry, AccountsError> {
    let email = normalise_email(email)?;
    if user_by_email(db, tenant_id, &email).await?.is_some() {
        return Err(AccountsError::Conflict(format!(
            "{email} is already a user of this tenant"
        )));
    }
    let hash = crate::kit::password::hash(password.to_string())
        .await
        .map_err(AccountsError::Internal)?;
    let user = User {
        id: UserId::random(),
        tenant_id: tenant_id.clone(),
        email,
        role,
    };
    let mut tx = db.pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, tenant_id, email, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, email) DO NOTHING",
    )
    .bind(&user.id)
    .bind(&user.tenant_id)
    .bind(&user.email)
    .bind(user.role.as_str())
    .bind(hash)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AccountsError::Conflict(format!(
            "{} is already a user of this tenant",
            user.email
        )));
    }
    let detail =
        serde_json::json!({"email": user.email, "role": user.role.as_str(), "invited": true});
    audit_user(&mut tx, &user, actor, Action::UserAdded, detail).await?;
    tx.commit().await?;
    user_entry(db, tenant_id, &user.id).await
}

/// A change an admin makes to a user: the role, or disabling (and enabling) the account.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
}

/// Changes a user's role or whether the account is disabled. Audit-logged with what changed.
pub async fn change_user_by(
    db: &Db,
    tenant_id: &TenantId,
    user_id: &UserId,
    change: &UserChange,
    actor: &Actor,
) -> Result<UserEntry, AccountsError> {
    let before = user_entry(db, tenant_id, user_id).await?;
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    if let Some(role) = change.role {
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(role.as_str())
            .bind(user_id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
    }
    match change.disabled {
        Some(true) => {
            sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2 AND tenant_id = $3")
                .bind(now)
                .bind(user_id)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
        }
        Some(false) => {
            sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = $1 AND tenant_id = $2")
                .bind(user_id)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
        }
        None => {}
    }
    let user = User {
        id: before.id.clone(),
        tenant_id: tenant_id.clone(),
        email: before.email.clone(),
        role: Role::parse(&before.role),
    };
    let detail = serde_json::json!({
        "email": before.email,
        "role": change.role.map(Role::as_str),
        "role_before": before.role,
        "disabled": change.disabled,
    });
    audit_user(&mut tx, &user, actor, Action::UserChanged, detail).await?;
    tx.commit().await?;
    user_entry(db, tenant_id, user_id).await
}

/// Gives a user of the tenant a new password (the admin's reset). Audit-logged, never the
/// password.
pub async fn reset_password_by(
    db: &Db,
    tenant_id: &TenantId,
    user_id: &UserId,
    password: &str,
    actor: &Actor,
) -> Result<UserEntry, AccountsError> {
    crate::kit::password::check_rules(password).map_err(|e| AccountsError::Invalid {
        field: "password",
        reason: e.to_string(),
    })?;
    let entry = user_entry(db, tenant_id, user_id).await?;
    let user = User {
        id: entry.id.clone(),
        tenant_id: tenant_id.clone(),
        email: entry.email.clone(),
        role: Role::parse(&entry.role),
    };
    store_password(db, &user, password, actor, "reset").await?;
    user_entry(db, tenant_id, user_id).await
}
