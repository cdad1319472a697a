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
use crate::kit::time::now_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// What a user may do in their tenant.
pub enum Role {
    Sender,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sender => "sender",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Role {
        if text == "admin" {
            Role::Admin
        } else {
            Role::Sender
        }
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
    let row = sqlx::query("SELECT id, name, domain, policy FROM tenants WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| tenant_from_row(&row)).transpose()
}

pub async fn tenant_by_id(db: &Db, id: &TenantId) -> Result<Option<Tenant>, AccountsError> {
    let row = sqlx::query("SELECT id, name, domain, policy FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| tenant_from_row(&row)).transpose()
}

/// A tenant's check policy that has passed the boundary: its disclosure texts valid and
/// every domain list made of domain names. Only such a policy is stored.
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
    let tenant = tenant_by_name(db, tenant)
        .await?
        .ok_or_else(|| AccountsError::NoTenant(tenant.into()))?;
    let email = normalise_email(email)?;
    let role = if admin { Role::Admin } else { Role::Sender };
    if let Some(existing) = user_by_email(db, &tenant.id, &email).await? {
        if admin && existing.role != Role::Admin {
            let mut tx = db.pool.begin().await?;
            sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
                .bind(&existing.id)
                .execute(&mut *tx)
                .await?;
            audit_user(
                &mut tx,
                &existing,
                actor,
                Action::UserChanged,
                serde_json::json!({"email": existing.email, "role": "admin"}),
            )
            .await?;
            tx.commit().await?;
            return Ok((
                User {
                    role: Role::Admin,
                    ..existing
                },
                false,
            ));
        }
        return Ok((existing, false));
    }
    let user = User {
        id: UserId::random(),
        tenant_id: tenant.id,
        email,
        role,
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
    let hash = crate::kit::password::hash(password.to_string())
        .await
        .map_err(AccountsError::Internal)?;
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"email": user.email, "password": "set"});
    audit_user(&mut tx, &user, actor, Action::UserChanged, detail).await?;
    tx.commit().await?;
    Ok(user)
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
    sqlx::query("UPDATE users SET password_hash = NULL WHERE id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({"email": user.email, "password": "removed"});
    audit_user(&mut tx, &user, actor, Action::UserChanged, detail).await?;
    tx.commit().await?;
    Ok(user)
}
