//! Events and webhooks on PostgreSQL. Claims take rows with `FOR UPDATE SKIP LOCKED`, so workers
//! in many processes never take the same delivery at once, and every time is the database's
//! (`now()`), which all of them share.

use super::*;
use kros_domain::EventType;
use sqlx::types::Json;

/// The scope's endpoints subscribed to an event type (`$1` organization, `$2` mode, `$3` type).
pub(super) const SUBSCRIBED: &str =
    "organization_id = $1 AND livemode = $2 AND enabled AND (event_types IS NULL OR event_types ? $3)";

#[async_trait]
impl WebhookStorage for PgStorage {
    async fn events(&self, scope: Scope, filter: EventFilter, window: Window) -> Result<Counted<AuditRecord>> {
        let matching = "organization_id = $1 AND livemode = $2 AND ($3 IS NULL OR action = $3) \
                        AND ($4 IS NULL OR phone_number_id = $4)";
        let rows = sqlx::query_as(&format!(
            "SELECT *, (SELECT COUNT(*) FROM audit_log WHERE {matching}) AS total FROM audit_log \
             WHERE {matching} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(filter.action)
        .bind(filter.phone_number_id)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE {matching}");
        let count = sqlx::query_scalar(&count_sql)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .bind(filter.action)
            .bind(filter.phone_number_id)
            .fetch_one(&self.pool);
        counted(rows, window, count, classify).await
    }

    async fn event(&self, scope: Scope, id: Uuid) -> Result<Option<AuditRecord>> {
        sqlx::query_as("SELECT * FROM audit_log WHERE id = $1 AND organization_id = $2 AND livemode = $3")
            .bind(id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    async fn webhook_endpoints(&self, scope: Scope, window: Window) -> Result<Counted<WebhookEndpointRecord>> {
        let rows = sqlx::query_as(&format!(
            "SELECT {WEBHOOK_ENDPOINT_COLUMNS}, \
             (SELECT COUNT(*) FROM webhook_endpoints WHERE organization_id = $1 AND livemode = $2) AS total \
             FROM webhook_endpoints WHERE organization_id = $1 AND livemode = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let count =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_endpoints WHERE organization_id = $1 AND livemode = $2")
                .bind(scope.organization_id)
                .bind(scope.livemode)
                .fetch_one(&self.pool);
        counted(rows, window, count, classify).await
    }

    async fn webhook_endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<WebhookEndpointRecord>> {
        sqlx::query_as!(
            WebhookEndpointRecord,
            r#"SELECT id, organization_id, livemode, url, description,
             event_types AS "event_types: Json<Vec<EventType>>", enabled, disabled_reason, secret,
             previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at
             FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3"#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn change_webhook_endpoint(
        &self,
        scope: Scope,
        id: Uuid,
        changes: &WebhookEndpointChanges,
        at: Timestamp,
    ) -> Result<Option<WebhookEndpointRecord>> {
        // In SET, a column names its value before the update: enabling clears the reason and
        // the streak only of an endpoint that was disabled.
        let update = format!(
            "UPDATE webhook_endpoints SET url = COALESCE($4, url), description = COALESCE($5, description), \
             event_types = CASE WHEN $6 THEN $7::jsonb ELSE event_types END, \
             disabled_reason = CASE WHEN $8::boolean AND NOT enabled THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $8::boolean AND NOT enabled THEN NULL ELSE failing_since END, \
             enabled = COALESCE($8, enabled), updated_at = $9 \
             WHERE id = $1 AND organization_id = $2 AND livemode = $3 RETURNING {WEBHOOK_ENDPOINT_COLUMNS}"
        );
        let mut held = self.held().await?;
        let changed = sqlx::query_as(&update)
            .bind(id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .bind(changes.url.as_deref())
            .bind(changes.description.as_deref())
            .bind(changes.event_types.is_some())
            .bind(changes.event_types.clone().flatten())
            .bind(changes.enabled)
            .bind(at)
            .fetch_optional(held.conn())
            .await;
        held.check(changed)
    }

    async fn rotate_webhook_secret(
        &self,
        scope: Scope,
        id: Uuid,
        secret: &str,
        previous_expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let update = format!(
            "UPDATE webhook_endpoints SET previous_secret = secret, secret = $4, previous_secret_expires_at = $5, \
             updated_at = $6 WHERE id = $1 AND organization_id = $2 AND livemode = $3 \
             RETURNING {WEBHOOK_ENDPOINT_COLUMNS}"
        );
        let mut held = self.held().await?;
        let rotated = sqlx::query_as(&update)
            .bind(id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .bind(secret)
            .bind(previous_expires_at)
            .bind(at)
            .fetch_optional(held.conn())
            .await;
        held.check(rotated)
    }

    async fn reseal_webhook_secrets(
        &self,
        seen: &WebhookEndpointRecord,
        secret: &str,
        previous_secret: Option<&str>,
    ) -> Result<bool> {
        let resealed = self
            .write(
                sqlx::query(
                    "UPDATE webhook_endpoints SET secret = $2, previous_secret = $3 \
                     WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5",
                )
                .bind(seen.id)
                .bind(secret)
                .bind(previous_secret)
                .bind(&seen.secret)
                .bind(&seen.previous_secret),
            )
            .await?;
        Ok(resealed.rows_affected() == 1)
    }

    async fn delete_webhook_endpoint(&self, scope: Scope, id: Uuid) -> Result<bool> {
        let deleted = self
            .write(sqlx::query!(
                "DELETE FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3",
                id,
                scope.organization_id,
                scope.livemode
            ))
            .await?;
        Ok(deleted.rows_affected() == 1)
    }

    async fn webhook_endpoints_with_secrets_without_prefix(&self, prefix: &str) -> Result<Vec<WebhookEndpointRecord>> {
        // A NULL previous secret makes its comparison NULL: only a real one counts.
        sqlx::query_as(&format!(
            "SELECT {WEBHOOK_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE NOT starts_with(secret, $1) OR NOT starts_with(previous_secret, $1)"
        ))
        .bind(prefix)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn webhook_attempts(
        &self,
        scope: Scope,
        endpoint_id: Uuid,
        window: Window,
    ) -> Result<Counted<AttemptWithEvent>> {
        // The endpoint's own scope is checked by the join: another scope's endpoint has none.
        let of_endpoint = "FROM webhook_attempts t JOIN webhook_endpoints e ON e.id = t.endpoint_id \
                           WHERE t.endpoint_id = $1 AND e.organization_id = $2 AND e.livemode = $3";
        let rows = sqlx::query_as(&format!(
            "SELECT t.*, a.action, (SELECT COUNT(*) {of_endpoint}) AS total \
             FROM webhook_attempts t JOIN webhook_endpoints e ON e.id = t.endpoint_id \
             JOIN audit_log a ON a.id = t.event_id \
             WHERE t.endpoint_id = $1 AND e.organization_id = $2 AND e.livemode = $3 \
             ORDER BY t.attempted_at DESC, t.id DESC LIMIT $4 OFFSET $5"
        ))
        .bind(endpoint_id)
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&self.pool)
        .await;
        let rows = rows.map_err(classify)?;
        let count_sql = format!("SELECT COUNT(*) {of_endpoint}");
        let count = sqlx::query_scalar(&count_sql)
            .bind(endpoint_id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .fetch_one(&self.pool);
        counted(rows, window, count, classify).await
    }

    async fn redeliver(
        &self,
        scope: Scope,
        event_id: Uuid,
        event_type: &str,
        endpoint_id: Option<Uuid>,
    ) -> Result<Vec<Uuid>> {
        let which = match endpoint_id {
            Some(_) => "organization_id = $1 AND livemode = $2 AND id = $5",
            None => SUBSCRIBED,
        };
        let mut writer = self.held().await?;
        let scheduled = sqlx::query_scalar(&format!(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at) \
             SELECT $4, id, 'pending', 0, now(), now() FROM webhook_endpoints WHERE {which} \
             ON CONFLICT (event_id, endpoint_id) DO UPDATE \
             SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, locked_until = NULL \
             RETURNING endpoint_id"
        ))
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(event_type)
        .bind(event_id)
        .bind(endpoint_id)
        .fetch_all(writer.conn())
        .await;
        writer.check(scheduled)
    }

    async fn claim_due_delivery(&self, lease: Duration) -> Result<Option<ClaimedDelivery>> {
        let mut writer = self.held().await?;
        // A row another worker is claiming right now is skipped, not waited for.
        let claimed = sqlx::query_as(
            "UPDATE webhook_deliveries SET locked_until = now() + make_interval(secs => $1) \
             WHERE (event_id, endpoint_id) = ( \
                 SELECT d.event_id, d.endpoint_id FROM webhook_deliveries d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.state = 'pending' AND d.next_attempt_at <= now() \
                   AND (d.locked_until IS NULL OR d.locked_until <= now()) AND e.enabled \
                 ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED) \
             RETURNING event_id, endpoint_id, attempts, locked_until",
        )
        .bind(seconds(lease))
        .fetch_optional(writer.conn())
        .await;
        writer.check(claimed)
    }

    async fn delivery_parts(&self, claim: &ClaimedDelivery) -> Result<Option<(AuditRecord, WebhookEndpointRecord)>> {
        let event = sqlx::query_as("SELECT * FROM audit_log WHERE id = $1")
            .bind(claim.event_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        let endpoint =
            sqlx::query_as(&format!("SELECT {WEBHOOK_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"))
                .bind(claim.endpoint_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(event.zip(endpoint))
    }

    async fn finish_attempt(
        &self,
        claim: &ClaimedDelivery,
        attempt: &AttemptRecord,
        next: AfterAttempt,
        disable: &DisableRule,
    ) -> Result<()> {
        let mut writer = self.held().await?.begin("BEGIN").await?;
        let outcome = finish(writer.conn(), claim, attempt, next, disable).await;
        writer.check(outcome)?;
        writer.finish("COMMIT").await
    }
}

async fn finish(
    conn: &mut PgConnection,
    claim: &ClaimedDelivery,
    a: &AttemptRecord,
    next: AfterAttempt,
    disable: &DisableRule,
) -> std::result::Result<(), sqlx::Error> {
    let insert =
        format!("INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    bind_attempt(sqlx::query(&insert), a).execute(&mut *conn).await?;
    let (state, retry_in) = match next {
        AfterAttempt::Delivered => (DeliveryState::Delivered, Duration::ZERO),
        AfterAttempt::RetryIn(delay) => (DeliveryState::Pending, delay),
        AfterAttempt::GiveUp => (DeliveryState::Failed, Duration::ZERO),
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
         next_attempt_at = now() + make_interval(secs => $2), locked_until = NULL \
         WHERE event_id = $3 AND endpoint_id = $4 AND locked_until = $5",
    )
    .bind(state)
    .bind(seconds(retry_in))
    .bind(claim.event_id)
    .bind(claim.endpoint_id)
    .bind(claim.locked_until)
    .execute(&mut *conn)
    .await?;
    if a.succeeded {
        sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1")
            .bind(a.endpoint_id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query("UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now()) WHERE id = $1")
        .bind(a.endpoint_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() \
         WHERE id = $1 AND enabled AND failing_since <= now() - make_interval(secs => $3)",
    )
    .bind(a.endpoint_id)
    .bind(&disable.reason)
    .bind(seconds(disable.after))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn count_endpoints_locked(held: &mut Held, scope: Scope) -> Result<i64> {
    // The organization's row, locked until the transaction ends, orders the writers that count
    // (NO KEY: the foreign keys' share locks of other writes are not blocked).
    let locked = sqlx::query("SELECT 1 FROM organizations WHERE id = $1 FOR NO KEY UPDATE")
        .bind(scope.organization_id)
        .execute(held.conn())
        .await;
    held.check(locked)?;
    let count = sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "count!: i64" FROM webhook_endpoints WHERE organization_id = $1 AND livemode = $2"#,
        scope.organization_id,
        scope.livemode
    )
    .fetch_one(held.conn())
    .await;
    held.check(count)
}

pub(super) async fn insert_endpoint(held: &mut Held, e: &WebhookEndpointRecord) -> Result<()> {
    let inserted = sqlx::query!(
        "INSERT INTO webhook_endpoints (id, organization_id, livemode, url, description, event_types, enabled, \
         disabled_reason, secret, previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        e.id,
        e.organization_id,
        e.livemode,
        e.url,
        e.description,
        e.event_types as _,
        e.enabled,
        e.disabled_reason,
        e.secret,
        e.previous_secret,
        e.previous_secret_expires_at,
        e.failing_since,
        e.created_at,
        e.updated_at
    )
    .execute(held.conn())
    .await;
    held.check(inserted)?;
    Ok(())
}
