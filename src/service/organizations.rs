//! Organizations, users and memberships.

use super::uuid_column;
use crate::db::{self, Db};
use crate::error::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
}

pub async fn create_organization(db: &Db, name: &str) -> Result<Uuid, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", "an organization name must be 1 to 200 characters"));
    }
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id.to_string())
        .bind(name)
        .bind(db::now())
        .execute(db)
        .await?;
    Ok(id)
}

pub async fn organization_exists(db: &Db, id: Uuid) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT id FROM organizations WHERE id = $1").bind(id.to_string()).fetch_optional(db).await?.is_some())
}

fn parse_email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid { Ok(email) } else { Err(AppError::validation("email", format!("{raw:?} is not an email address"))) }
}

/// Creates a user with a password (argon2id) and makes them a member of `organization_id`.
pub async fn create_user(db: &Db, email: &str, password: &str, organization_id: Uuid) -> Result<Uuid, AppError> {
    let email = parse_email(email)?;
    if password.chars().count() < 8 {
        return Err(AppError::validation("password", "a password must be at least 8 characters"));
    }
    if !organization_exists(db, organization_id).await? {
        return Err(AppError::not_found("organization"));
    }
    let hash = hash_password(password)?;
    let id = Uuid::new_v4();
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id.to_string())
        .bind(&email)
        .bind(&hash)
        .bind(db::now())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if db::is_unique_violation(&e) {
                AppError::Conflict(format!("a user with email {email} already exists"))
            } else {
                e.into()
            }
        })?;
    add_membership(&mut tx, id, organization_id).await?;
    tx.commit().await?;
    Ok(id)
}

/// Makes an existing user (by email) a member of another organization too; returns the user id.
/// Adding a member twice changes nothing.
pub async fn add_user_to_organization(db: &Db, email: &str, organization_id: Uuid) -> Result<Uuid, AppError> {
    let email = parse_email(email)?;
    if !organization_exists(db, organization_id).await? {
        return Err(AppError::not_found("organization"));
    }
    let row = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let user_id = uuid_column(&row.try_get::<String, _>("id")?)?;
    let mut tx = db.begin().await?;
    add_membership(&mut tx, user_id, organization_id).await?;
    tx.commit().await?;
    Ok(user_id)
}

/// Creates a user known only by id (a JWT `sub` seen for the first time), with no organization.
pub async fn create_external_user(db: &Db, id: Uuid, email: Option<&str>) -> Result<(), AppError> {
    let email = email.map(str::to_string).unwrap_or_else(|| format!("{id}@users.invalid"));
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, NULL, $3) ON CONFLICT DO NOTHING")
        .bind(id.to_string())
        .bind(email)
        .bind(db::now())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn add_membership(tx: &mut db::Tx, user_id: Uuid, organization_id: Uuid) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO memberships (user_id, organization_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(user_id.to_string())
    .bind(organization_id.to_string())
    .bind(db::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn user_exists(db: &Db, id: Uuid) -> Result<bool, AppError> {
    Ok(sqlx::query("SELECT id FROM users WHERE id = $1").bind(id.to_string()).fetch_optional(db).await?.is_some())
}

/// The user's organizations, oldest membership first.
pub async fn organizations_of(db: &Db, user_id: Uuid) -> Result<Vec<Organization>, AppError> {
    let rows = sqlx::query(
        "SELECT o.id, o.name FROM memberships m JOIN organizations o ON o.id = m.organization_id \
         WHERE m.user_id = $1 ORDER BY m.created_at, o.id",
    )
    .bind(user_id.to_string())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok(Organization { id: uuid_column(&r.try_get::<String, _>("id")?)?, name: r.try_get("name")? }))
        .collect()
}

/// Checks an email and password; `None` for a wrong password or an unknown email alike.
pub async fn verify_login(db: &Db, email: &str, password: &str) -> Result<Option<Uuid>, AppError> {
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(db)
        .await?;
    let Some(row) = row else {
        // Spend the same time as a real check, so timing does not tell whether the email exists.
        let _ = hash_password(password);
        return Ok(None);
    };
    let Some(hash) = row.try_get::<Option<String>, _>("password_hash")? else { return Ok(None) };
    let parsed = PasswordHash::new(&hash).map_err(|e| AppError::internal(e.to_string()))?;
    if Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() {
        Ok(Some(uuid_column(&row.try_get::<String, _>("id")?)?))
    } else {
        Ok(None)
    }
}

fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(e.to_string()))
}

pub async fn email_of(db: &Db, user_id: Uuid) -> Result<String, AppError> {
    let row = sqlx::query("SELECT email FROM users WHERE id = $1").bind(user_id.to_string()).fetch_optional(db).await?;
    row.map(|r| r.try_get("email")).transpose()?.ok_or_else(|| AppError::not_found("user"))
}
