//! Events and webhooks on PostgreSQL. Claims take rows with `FOR UPDATE SKIP LOCKED`, so workers
//! in many processes never take the same delivery at once, and every time is the database's
//! (`now()`), which all of them share.

use super::*;

#[async_trait]
impl WebhookStorage for PgStorage {
    async fn events(&self, scope: Scope, filter: EventFilter, window: Window) -> Result<Counted<AuditRecord>> {
        read_page!(window, classify, |w| {
            audit_query!(
                AuditPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM audit_log WHERE organization_id = $1 AND livemode = $2
              AND ($3::audit_action IS NULL OR action = $3) AND ($4::uuid IS NULL OR phone_number_id = $4))
             AS "total!"
             FROM audit_log WHERE organization_id = $1 AND livemode = $2
             AND ($3::audit_action IS NULL OR action = $3) AND ($4::uuid IS NULL OR phone_number_id = $4)
             ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"#,
                scope.organization_id,
                scope.livemode,
                filter.action as _,
                filter.phone_number_id,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }

    async fn event(&self, scope: Scope, id: Uuid) -> Result<Option<AuditRecord>> {
        audit_query!(
            AuditRecord,
            "SELECT",
            " FROM audit_log WHERE id = $1 AND organization_id = $2 AND livemode = $3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn webhook_endpoints(&self, scope: Scope, window: Window) -> Result<Counted<WebhookEndpointRecord>> {
        read_page!(window, classify, |w| {
            webhook_endpoints_query!(
                WebhookEndpointPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM webhook_endpoints WHERE organization_id = $1 AND livemode = $2) AS "total!"
             FROM webhook_endpoints WHERE organization_id = $1 AND livemode = $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"#,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }

    async fn webhook_endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<WebhookEndpointRecord>> {
        webhook_endpoints_query!(
            WebhookEndpointRecord,
            "SELECT",
            " FROM webhook_endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3",
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
        let mut held = self.held().await?;
        // In SET, a column names its value before the update: enabling clears the reason and
        // the streak only of an endpoint that was disabled.
        let changed = webhook_endpoints_query!(
            WebhookEndpointRecord,
            "UPDATE webhook_endpoints SET url = COALESCE($4, url), description = COALESCE($5, description), \
             event_types = CASE WHEN $6 THEN $7::jsonb ELSE event_types END, \
             disabled_reason = CASE WHEN $8::boolean AND NOT enabled THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $8::boolean AND NOT enabled THEN NULL ELSE failing_since END, \
             enabled = COALESCE($8, enabled), updated_at = $9 \
             WHERE id = $1 AND organization_id = $2 AND livemode = $3 RETURNING",
            "",
            id,
            scope.organization_id,
            scope.livemode,
            changes.url.as_deref(),
            changes.description.as_deref(),
            changes.event_types.is_some(),
            changes.event_types.clone().flatten() as _,
            changes.enabled,
            at
        )
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
        let mut held = self.held().await?;
        let rotated = webhook_endpoints_query!(
            WebhookEndpointRecord,
            "UPDATE webhook_endpoints SET previous_secret = secret, secret = $4, previous_secret_expires_at = $5, \
             updated_at = $6 WHERE id = $1 AND organization_id = $2 AND livemode = $3 RETURNING",
            "",
            id,
            scope.organization_id,
            scope.livemode,
            secret,
            previous_expires_at,
            at
        )
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
            .write(sqlx::query!(
                "UPDATE webhook_endpoints SET secret = $2, previous_secret = $3 \
                 WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5",
                seen.id,
                secret,
                previous_secret,
                seen.secret,
                seen.previous_secret
            ))
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
        webhook_endpoints_query!(
            WebhookEndpointRecord,
            "SELECT",
            " FROM webhook_endpoints WHERE NOT starts_with(secret, $1) OR NOT starts_with(previous_secret, $1)",
            prefix
        )
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
        read_page!(window, classify, |w| {
            sqlx::query_as!(
                AttemptPageRow,
                r#"SELECT t.id, t.event_id, t.endpoint_id, t.attempted_at, t.succeeded, t.response_status,
             t.latency_ms, t.response_body, t.error, a.action AS "action: AuditAction",
             (SELECT COUNT(*) FROM webhook_attempts t JOIN webhook_endpoints e ON e.id = t.endpoint_id
              WHERE t.endpoint_id = $1 AND e.organization_id = $2 AND e.livemode = $3) AS "total!"
             FROM webhook_attempts t JOIN webhook_endpoints e ON e.id = t.endpoint_id
             JOIN audit_log a ON a.id = t.event_id
             WHERE t.endpoint_id = $1 AND e.organization_id = $2 AND e.livemode = $3
             ORDER BY t.attempted_at DESC, t.id DESC LIMIT $4 OFFSET $5"#,
                endpoint_id,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }

    async fn redeliver(
        &self,
        scope: Scope,
        event_id: Uuid,
        event_type: &str,
        endpoint_id: Option<Uuid>,
    ) -> Result<Vec<Uuid>> {
        let mut writer = self.held().await?;
        let scheduled = enqueue(writer.conn(), scope, event_id, event_type, endpoint_id).await;
        writer.check(scheduled)
    }

    async fn claim_due_delivery(&self, lease: Duration) -> Result<Option<ClaimedDelivery>> {
        let mut writer = self.held().await?;
        // A row another worker is claiming right now is skipped, not waited for.
        let claimed = sqlx::query_as!(
            ClaimedDelivery,
            r#"UPDATE webhook_deliveries SET locked_until = now() + make_interval(secs => $1)
             WHERE (event_id, endpoint_id) = (
                 SELECT d.event_id, d.endpoint_id FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                 WHERE d.state = 'pending' AND d.next_attempt_at <= now()
                   AND (d.locked_until IS NULL OR d.locked_until <= now()) AND e.enabled
                 ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED)
             RETURNING event_id, endpoint_id, attempts, locked_until AS "locked_until!""#,
            seconds(lease)
        )
        .fetch_optional(writer.conn())
        .await;
        writer.check(claimed)
    }

    async fn delivery_parts(&self, claim: &ClaimedDelivery) -> Result<Option<(AuditRecord, WebhookEndpointRecord)>> {
        let event = audit_query!(AuditRecord, "SELECT", " FROM audit_log WHERE id = $1", claim.event_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        let endpoint = webhook_endpoints_query!(
            WebhookEndpointRecord,
            "SELECT",
            " FROM webhook_endpoints WHERE id = $1",
            claim.endpoint_id
        )
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
    insert_attempt!(a).execute(&mut *conn).await?;
    let (state, retry_in) = match next {
        AfterAttempt::Delivered => (DeliveryState::Delivered, Duration::ZERO),
        AfterAttempt::RetryIn(delay) => (DeliveryState::Pending, delay),
        AfterAttempt::GiveUp => (DeliveryState::Failed, Duration::ZERO),
    };
    sqlx::query!(
        "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
         next_attempt_at = now() + make_interval(secs => $2), locked_until = NULL \
         WHERE event_id = $3 AND endpoint_id = $4 AND locked_until = $5",
        state as _,
        seconds(retry_in),
        claim.event_id,
        claim.endpoint_id,
        claim.locked_until
    )
    .execute(&mut *conn)
    .await?;
    if a.succeeded {
        sqlx::query!("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1", a.endpoint_id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query!(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now()) WHERE id = $1",
        a.endpoint_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now() \
         WHERE id = $1 AND enabled AND failing_since <= now() - make_interval(secs => $3)",
        a.endpoint_id,
        disable.reason,
        seconds(disable.after)
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Schedules the event's delivery to the scope's enabled endpoints subscribed to its type, or to
/// the one endpoint named (whatever it subscribes to); a delivery already there starts over.
/// Returns the endpoints it is scheduled for.
pub(super) async fn enqueue(
    conn: &mut PgConnection,
    scope: Scope,
    event_id: Uuid,
    event_type: &str,
    endpoint_id: Option<Uuid>,
) -> std::result::Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at) \
         SELECT $4, id, 'pending', 0, now(), now() FROM webhook_endpoints \
         WHERE organization_id = $1 AND livemode = $2 AND (id = $5 OR ($5::uuid IS NULL AND enabled \
           AND (event_types IS NULL OR event_types ? $3))) \
         ON CONFLICT (event_id, endpoint_id) DO UPDATE \
         SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, locked_until = NULL \
         RETURNING endpoint_id",
        scope.organization_id,
        scope.livemode,
        event_type,
        event_id,
        endpoint_id
    )
    .fetch_all(conn)
    .await
}

pub(super) async fn count_endpoints_locked(held: &mut Held, scope: Scope) -> Result<i64> {
    // The organization's row, locked until the transaction ends, orders the writers that count
    // (NO KEY: the foreign keys' share locks of other writes are not blocked).
    let locked =
        sqlx::query!("SELECT 1 AS locked FROM organizations WHERE id = $1 FOR NO KEY UPDATE", scope.organization_id)
            .fetch_optional(held.conn())
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
    let inserted = insert_webhook_endpoint!(e).execute(held.conn()).await;
    held.check(inserted)?;
    Ok(())
}
