//! Tenant and user administration, shared by the command line (`leakwatch tenant|user|token`)
//! and the API.

use sqlx::Row;

use crate::audit::{Action, Actor};
use crate::auth::Role;
use crate::db::{now_ms, random_id, Db};
use crate::oidc::OidcSettings;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
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

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
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
) -> Result<(Tenant, bool), AdminError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid {
            field: "name",
            reason: "is empty".into(),
        });
    }
    let domain = leakwatch_core::address::domain_to_ascii(domain.trim()).ok_or_else(|| {
        AdminError::Invalid {
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
        id: random_id(),
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
            .ok_or_else(|| AdminError::NoTenant(name.into()))?;
        return Ok((existing, false));
    }
    Ok((tenant, true))
}

pub async fn tenant_by_name(db: &Db, name: &str) -> Result<Option<Tenant>, AdminError> {
    let row = sqlx::query("SELECT id, name, domain, policy FROM tenants WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| tenant_from_row(&row)).transpose()
}

pub async fn tenant_by_id(db: &Db, id: &str) -> Result<Option<Tenant>, AdminError> {
    let row = sqlx::query("SELECT id, name, domain, policy FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| tenant_from_row(&row)).transpose()
}

/// Replaces a tenant's check policy and records who did it, in one transaction.
pub async fn set_tenant_policy(
    db: &Db,
    tenant_id: &str,
    policy: &leakwatch_core::Policy,
    actor: &crate::audit::Actor,
) -> Result<(), AdminError> {
    policy
        .disclosure
        .validate()
        .map_err(|e| AdminError::Invalid {
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
            return Err(AdminError::Invalid {
                field,
                reason: format!("'{bad}' is not a domain name"),
            });
        }
    }
    let mut tx = db.pool.begin().await?;
    let now = now_ms();
    let updated = sqlx::query("UPDATE tenants SET policy = $1 WHERE id = $2")
        .bind(serde_json::to_string(policy).expect("a policy serialises"))
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AdminError::NoTenant(tenant_id.into()));
    }
    crate::audit::record(
        &mut *tx,
        tenant_id,
        actor,
        crate::audit::Action::PolicyChanged,
        ("tenant", tenant_id),
        serde_json::to_value(policy).unwrap_or_default(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn tenant_from_row(row: &sqlx::any::AnyRow) -> Result<Tenant, AdminError> {
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
    pub id: String,
    pub tenant_id: String,
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
) -> Result<(User, bool), AdminError> {
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
) -> Result<(User, bool), AdminError> {
    let tenant = tenant_by_name(db, tenant)
        .await?
        .ok_or_else(|| AdminError::NoTenant(tenant.into()))?;
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
        id: random_id(),
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
    crate::audit::record(
        &mut **tx,
        &user.tenant_id,
        actor,
        action,
        ("user", &user.id),
        detail,
        now_ms(),
    )
    .await
}

/// An e-mail address as users are stored: local part and domain lower-cased, the domain in
/// ASCII.
pub fn normalise_email(email: &str) -> Result<String, AdminError> {
    let address =
        leakwatch_core::address::parse_addr_spec(email).map_err(|e| AdminError::Invalid {
            field: "email",
            reason: e.to_string(),
        })?;
    Ok(format!("{}@{}", address.local, address.domain))
}

pub async fn user_by_email(
    db: &Db,
    tenant_id: &str,
    email: &str,
) -> Result<Option<User>, AdminError> {
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
pub async fn find_user(db: &Db, tenant: &str, email: &str) -> Result<User, AdminError> {
    let tenant_row = tenant_by_name(db, tenant)
        .await?
        .ok_or_else(|| AdminError::NoTenant(tenant.into()))?;
    user_by_email(db, &tenant_row.id, email.trim())
        .await?
        .ok_or_else(|| AdminError::NoUser {
            tenant: tenant.into(),
            email: email.into(),
        })
}

/// Sets (or, with an empty `password`, refuses) a user's password: argon2id, checked against
/// [`crate::password::check_rules`] first. Audit-logged as the command line's doing.
pub async fn set_password(
    db: &Db,
    tenant: &str,
    email: &str,
    password: &str,
) -> Result<User, AdminError> {
    set_password_by(db, tenant, email, password, &Actor::system("cli")).await
}

/// [`set_password`], audit-logged as done by `actor` (never the password).
pub async fn set_password_by(
    db: &Db,
    tenant: &str,
    email: &str,
    password: &str,
    actor: &Actor,
) -> Result<User, AdminError> {
    crate::password::check_rules(password).map_err(|e| AdminError::Invalid {
        field: "password",
        reason: e.to_string(),
    })?;
    let user = find_user(db, tenant, email).await?;
    let hash = crate::password::hash(password.to_string())
        .await
        .map_err(AdminError::Internal)?;
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
pub async fn clear_password(db: &Db, tenant: &str, email: &str) -> Result<User, AdminError> {
    clear_password_by(db, tenant, email, &Actor::system("cli")).await
}

/// [`clear_password`], audit-logged as done by `actor`.
pub async fn clear_password_by(
    db: &Db,
    tenant: &str,
    email: &str,
    actor: &Actor,
) -> Result<User, AdminError> {
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

/// A tenant's OpenID Connect settings, if it has any.
pub async fn tenant_oidc(db: &Db, tenant_id: &str) -> Result<Option<OidcSettings>, AdminError> {
    let row = sqlx::query("SELECT oidc FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(&db.pool)
        .await?;
    let Some(row) = row else {
        return Err(AdminError::NoTenant(tenant_id.into()));
    };
    let oidc: Option<String> = row.try_get("oidc")?;
    Ok(oidc.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Every tenant that accepts identity-provider tokens: (tenant id, settings).
pub async fn oidc_tenants(db: &Db) -> Result<Vec<(String, OidcSettings)>, AdminError> {
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
    tenant_id: &str,
    settings: Option<OidcSettings>,
) -> Result<Option<OidcSettings>, AdminError> {
    set_tenant_oidc_by(db, tenant_id, settings, &Actor::system("cli")).await
}

/// [`set_tenant_oidc`], audit-logged as done by `actor`.
pub async fn set_tenant_oidc_by(
    db: &Db,
    tenant_id: &str,
    settings: Option<OidcSettings>,
    actor: &Actor,
) -> Result<Option<OidcSettings>, AdminError> {
    let settings = settings.map(OidcSettings::validated).transpose()?;
    if let Some(settings) = &settings {
        for (other, theirs) in oidc_tenants(db).await? {
            if other != tenant_id && theirs.tenant_id.eq_ignore_ascii_case(&settings.tenant_id) {
                return Err(AdminError::Conflict(format!(
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
        return Err(AdminError::NoTenant(tenant_id.into()));
    }
    crate::audit::record(
        &mut *tx,
        tenant_id,
        actor,
        Action::OidcChanged,
        ("tenant", tenant_id),
        serde_json::to_value(&settings).unwrap_or_default(),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(settings)
}
