//! Organizations, users and memberships.

use super::Context;
use crate::error::AppError;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use kros_storage::{self as storage, OrganizationRecord, StorageError, UserRecord};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
}

/// A user: their email and organizations, oldest membership first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub email: String,
    pub organizations: Vec<Organization>,
}

pub async fn create_organization(ctx: &Context, name: &str) -> Result<Uuid, AppError> {
    let name = kros_domain::parse::parse_name("name", name, 200)?;
    let org = OrganizationRecord { id: Uuid::new_v4(), name: name.to_string(), created_at: storage::now() };
    ctx.store.insert_organization(&org).await?;
    Ok(org.id)
}

pub async fn organization_exists(ctx: &Context, id: Uuid) -> Result<bool, AppError> {
    Ok(ctx.store.organization_exists(id).await?)
}

fn parse_email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(AppError::validation("email", format!("{raw:?} is not an email address")))
    }
}

/// Creates a user with a password (argon2id) and makes them a member of `organization_id`.
pub async fn create_user(ctx: &Context, email: &str, password: &str, organization_id: Uuid) -> Result<Uuid, AppError> {
    let email = parse_email(email)?;
    if password.chars().count() < 8 {
        return Err(AppError::validation("password", "a password must be at least 8 characters"));
    }
    require_organization(ctx, organization_id).await?;
    let user = UserRecord {
        id: Uuid::new_v4(),
        password_hash: Some(hash_password(password).await?),
        email,
        created_at: storage::now(),
    };
    let taken = format!("a user with email {} already exists", user.email);
    insert_member(ctx, &user, organization_id, taken).await?;
    Ok(user.id)
}

/// Creates a user who signs in through the Supabase project (`id` is their Supabase user id, the
/// `sub` of their tokens) and makes them a member of `organization_id`.
pub async fn create_supabase_user(
    ctx: &Context,
    id: Uuid,
    email: &str,
    organization_id: Uuid,
) -> Result<Uuid, AppError> {
    let email = parse_email(email)?;
    require_organization(ctx, organization_id).await?;
    let user = UserRecord { id, email, password_hash: None, created_at: storage::now() };
    let taken = format!("a user with email {} or this id already exists", user.email);
    insert_member(ctx, &user, organization_id, taken).await?;
    Ok(id)
}

async fn require_organization(ctx: &Context, id: Uuid) -> Result<(), AppError> {
    if organization_exists(ctx, id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("organization"))
    }
}

/// A new user and their first membership; `taken` is the answer when the user already exists.
async fn insert_member(ctx: &Context, user: &UserRecord, organization_id: Uuid, taken: String) -> Result<(), AppError> {
    ctx.store.insert_user(user, organization_id).await.map_err(|e| match e {
        StorageError::UniqueViolation(_) => AppError::Conflict(taken),
        other => other.into(),
    })
}

/// Makes an existing user (by email) a member of another organization too; returns the user id.
/// Adding a member twice changes nothing.
pub async fn add_user_to_organization(ctx: &Context, email: &str, organization_id: Uuid) -> Result<Uuid, AppError> {
    let email = parse_email(email)?;
    require_organization(ctx, organization_id).await?;
    let user = ctx.store.user_by_email(&email).await?.ok_or_else(|| AppError::not_found("user"))?;
    ctx.store.insert_membership(user.id, organization_id).await?;
    Ok(user.id)
}

/// Creates a user known only by id (a JWT `sub` seen for the first time), with no organization.
pub async fn create_external_user(ctx: &Context, id: Uuid, email: Option<&str>) -> Result<(), AppError> {
    let email = email.map(str::to_string).unwrap_or_else(|| format!("{id}@users.invalid"));
    let user = UserRecord { id, email, password_hash: None, created_at: storage::now() };
    Ok(ctx.store.insert_user_if_absent(&user).await?)
}

pub async fn user_exists(ctx: &Context, id: Uuid) -> Result<bool, AppError> {
    Ok(ctx.store.user_by_id(id).await?.is_some())
}

/// The user, in one query; `None` when there is no such user.
pub async fn account_of(ctx: &Context, user_id: Uuid) -> Result<Option<Account>, AppError> {
    let Some(account) = ctx.store.account(user_id).await? else { return Ok(None) };
    let organizations = account.organizations.into_iter().map(|o| Organization { id: o.id, name: o.name }).collect();
    Ok(Some(Account { email: account.email, organizations }))
}

/// The user's organizations, oldest membership first.
pub async fn organizations_of(ctx: &Context, user_id: Uuid) -> Result<Vec<Organization>, AppError> {
    Ok(account_of(ctx, user_id).await?.map(|a| a.organizations).unwrap_or_default())
}

/// Checks an email and password; `None` for a wrong password, an unknown email or a user who
/// signs in elsewhere alike, each after the same argon2 work, so timing does not tell them apart.
pub async fn verify_login(ctx: &Context, email: &str, password: &str) -> Result<Option<Uuid>, AppError> {
    let user = ctx.store.user_by_email(&email.trim().to_lowercase()).await?;
    let Some((user_id, hash)) = user.and_then(|u| Some((u.id, u.password_hash?))) else {
        let _ = hash_password(password).await;
        return Ok(None);
    };
    let password = password.to_string();
    let verified = argon2_work(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AppError::internal_caused_by("a stored password hash is unreadable", e))?;
        Ok::<_, AppError>(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await??;
    Ok(verified.then_some(user_id))
}

async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_string();
    argon2_work(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal_caused_by("cannot hash a password", e))
    })
    .await?
}

/// Runs argon2 (tens of milliseconds of CPU) on the blocking pool, at most one per two cores at
/// a time: a burst of sign-ins queues here instead of taking every core from the API.
async fn argon2_work<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        tokio::sync::Semaphore::new((cores / 2).max(1))
    });
    let _slot = SLOTS.acquire().await.map_err(|e| AppError::internal_caused_by("argon2 slots closed", e))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| AppError::internal_caused_by("argon2 work failed", e))
}

pub async fn email_of(ctx: &Context, user_id: Uuid) -> Result<String, AppError> {
    ctx.store.user_by_id(user_id).await?.map(|u| u.email).ok_or_else(|| AppError::not_found("user"))
}
