//! Events and webhooks on SQLite. Times are compared as the text sqlx writes (RFC 3339, UTC,
//! which sorts as time), against this process's clock: every process sharing a SQLite file is
//! on the same machine.

use super::*;

/// The longest span [`later`] and [`earlier`] take: a mistyped setting (`10000y`) neither
/// overflows the calendar nor leaves the four-digit years that keep these times sorting as text.
const LONGEST: Duration = Duration::from_secs(1000 * 365 * 24 * 3600);

fn span(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d.min(LONGEST)).expect("a thousand years fit")
}

fn later(d: Duration) -> Timestamp {
    now() + span(d)
}

fn earlier(d: Duration) -> Timestamp {
    now() - span(d)
}

#[async_trait]
impl WebhookStorage for SqliteStorage {
    async fn events(&self, scope: Scope, filter: EventFilter, window: Window) -> Result<Counted<AuditRecord>> {
        let pools = self.pools.read().await;
        read_page!(window, classify, |w| {
            audit_query!(
                AuditPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM audit_log WHERE organization_id = ?1 AND livemode = ?2
              AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR phone_number_id = ?4)) AS "total!: i64"
             FROM audit_log WHERE organization_id = ?1 AND livemode = ?2
             AND (?3 IS NULL OR action = ?3) AND (?4 IS NULL OR phone_number_id = ?4)
             ORDER BY created_at DESC, id DESC LIMIT ?5 OFFSET ?6"#,
                scope.organization_id,
                scope.livemode,
                filter.action,
                filter.phone_number_id,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }

    async fn event(&self, scope: Scope, id: Uuid) -> Result<Option<AuditRecord>> {
        audit_query!(
            AuditRecord,
            "SELECT",
            " FROM audit_log WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn webhook_endpoints(&self, scope: Scope, window: Window) -> Result<Counted<WebhookEndpointRecord>> {
        let pools = self.pools.read().await;
        read_page!(window, classify, |w| {
            webhook_endpoints_query!(
                WebhookEndpointPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM webhook_endpoints WHERE organization_id = ?1 AND livemode = ?2)
             AS "total!: i64"
             FROM webhook_endpoints WHERE organization_id = ?1 AND livemode = ?2
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"#,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }

    async fn webhook_endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<WebhookEndpointRecord>> {
        webhook_endpoints_query!(
            WebhookEndpointRecord,
            "SELECT",
            " FROM webhook_endpoints WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
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
        let (url, description) = (changes.url.as_deref(), changes.description.as_deref());
        let (types_given, event_types) = (changes.event_types.is_some(), changes.event_types.clone().flatten());
        let (_gate, mut writer) = self.writer().await?;
        // In SET, a column names its value before the update: enabling clears the reason and
        // the streak only of an endpoint that was disabled.
        let changed = webhook_endpoints_query!(
            WebhookEndpointRecord,
            "UPDATE webhook_endpoints SET url = COALESCE(?4, url), description = COALESCE(?5, description), \
             event_types = CASE WHEN ?6 THEN ?7 ELSE event_types END, \
             disabled_reason = CASE WHEN ?8 AND NOT enabled THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN ?8 AND NOT enabled THEN NULL ELSE failing_since END, \
             enabled = COALESCE(?8, enabled), updated_at = ?9 \
             WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3 RETURNING",
            "",
            id,
            scope.organization_id,
            scope.livemode,
            url,
            description,
            types_given,
            event_types,
            changes.enabled,
            at
        )
        .fetch_optional(writer.conn())
        .await;
        writer.check(changed)
    }

    async fn rotate_webhook_secret(
        &self,
        scope: Scope,
        id: Uuid,
        secret: &str,
        previous_expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<Option<WebhookEndpointRecord>> {
        let (_gate, mut writer) = self.writer().await?;
        let rotated = webhook_endpoints_query!(
            WebhookEndpointRecord,
            "UPDATE webhook_endpoints SET previous_secret = secret, secret = ?4, previous_secret_expires_at = ?5, \
             updated_at = ?6 WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3 RETURNING",
            "",
            id,
            scope.organization_id,
            scope.livemode,
            secret,
            previous_expires_at,
            at
        )
        .fetch_optional(writer.conn())
        .await;
        writer.check(rotated)
    }

    async fn reseal_webhook_secrets(
        &self,
        seen: &WebhookEndpointRecord,
        secret: &str,
        previous_secret: Option<&str>,
    ) -> Result<bool> {
        // `IS`: SQLite's comparison that holds for two NULLs.
        let resealed = self
            .write(sqlx::query!(
                "UPDATE webhook_endpoints SET secret = ?2, previous_secret = ?3 \
                 WHERE id = ?1 AND secret = ?4 AND previous_secret IS ?5",
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
                "DELETE FROM webhook_endpoints WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
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
            " FROM webhook_endpoints \
             WHERE substr(secret, 1, length(?1)) <> ?1 OR substr(previous_secret, 1, length(?1)) <> ?1",
            prefix
        )
        .fetch_all(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn webhook_attempts(
        &self,
        scope: Scope,
        endpoint_id: Uuid,
        window: Window,
    ) -> Result<Counted<AttemptWithEvent>> {
        let pools = self.pools.read().await;
        // The endpoint's own scope is checked by the join: another scope's endpoint has none.
        read_page!(window, classify, |w| {
            sqlx::query_as!(
                AttemptPageRow,
                r#"SELECT t.id AS "id!: Uuid", t.event_id AS "event_id!: Uuid", t.endpoint_id AS "endpoint_id!: Uuid",
             t.attempted_at AS "attempted_at!: Timestamp", t.succeeded AS "succeeded!: bool",
             t.response_status AS "response_status?: i32", t.latency_ms AS "latency_ms!",
             t.response_body AS "response_body?", t.error AS "error?", a.action AS "action!: AuditAction",
             (SELECT COUNT(*) FROM webhook_attempts t JOIN webhook_endpoints e ON e.id = t.endpoint_id
              WHERE t.endpoint_id = ?1 AND e.organization_id = ?2 AND e.livemode = ?3) AS "total!: i64"
             FROM webhook_attempts t JOIN webhook_endpoints e ON e.id = t.endpoint_id
             JOIN audit_log a ON a.id = t.event_id
             WHERE t.endpoint_id = ?1 AND e.organization_id = ?2 AND e.livemode = ?3
             ORDER BY t.attempted_at DESC, t.id DESC LIMIT ?4 OFFSET ?5"#,
                endpoint_id,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }

    async fn redeliver(
        &self,
        scope: Scope,
        event_id: Uuid,
        event_type: &str,
        endpoint_id: Option<Uuid>,
    ) -> Result<Vec<Uuid>> {
        let (_gate, mut writer) = self.writer().await?;
        let scheduled = enqueue(writer.conn(), scope, event_id, event_type, endpoint_id).await;
        writer.check(scheduled)
    }

    async fn claim_due_delivery(&self, lease: Duration) -> Result<Option<ClaimedDelivery>> {
        let (at, until) = (now(), later(lease));
        let (_gate, mut writer) = self.writer().await?;
        // One statement on the one writer: no other worker can take the same row meanwhile.
        let claimed = sqlx::query_as!(
            ClaimedDelivery,
            r#"UPDATE webhook_deliveries SET locked_until = ?2 WHERE (event_id, endpoint_id) = (
                 SELECT d.event_id, d.endpoint_id FROM webhook_deliveries d
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                   AND (d.locked_until IS NULL OR d.locked_until <= ?1) AND e.enabled = 1
                 ORDER BY d.next_attempt_at LIMIT 1)
             RETURNING event_id AS "event_id!: Uuid", endpoint_id AS "endpoint_id!: Uuid",
             attempts AS "attempts!: i32", locked_until AS "locked_until!: Timestamp""#,
            at,
            until
        )
        .fetch_optional(writer.conn())
        .await;
        writer.check(claimed)
    }

    async fn delivery_parts(&self, claim: &ClaimedDelivery) -> Result<Option<(AuditRecord, WebhookEndpointRecord)>> {
        let pools = self.pools.read().await;
        let event = audit_query!(AuditRecord, "SELECT", " FROM audit_log WHERE id = ?1", claim.event_id)
            .fetch_optional(&pools.readers)
            .await
            .map_err(classify)?;
        let endpoint = webhook_endpoints_query!(
            WebhookEndpointRecord,
            "SELECT",
            " FROM webhook_endpoints WHERE id = ?1",
            claim.endpoint_id
        )
        .fetch_optional(&pools.readers)
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
        let (_gate, writer) = self.writer().await?;
        let mut writer = writer.begin("BEGIN IMMEDIATE").await?;
        let outcome = finish(writer.conn(), claim, attempt, next, disable).await;
        writer.check(outcome)?;
        writer.finish("COMMIT").await
    }
}

async fn finish(
    conn: &mut SqliteConnection,
    claim: &ClaimedDelivery,
    a: &AttemptRecord,
    next: AfterAttempt,
    disable: &DisableRule,
) -> std::result::Result<(), sqlx::Error> {
    insert_attempt!(a).execute(&mut *conn).await?;
    let (state, retry_at) = match next {
        AfterAttempt::Delivered => (DeliveryState::Delivered, now()),
        AfterAttempt::RetryIn(delay) => (DeliveryState::Pending, later(delay)),
        AfterAttempt::GiveUp => (DeliveryState::Failed, now()),
    };
    sqlx::query!(
        "UPDATE webhook_deliveries SET state = ?1, attempts = attempts + 1, next_attempt_at = ?2, locked_until = NULL \
         WHERE event_id = ?3 AND endpoint_id = ?4 AND locked_until = ?5",
        state,
        retry_at,
        claim.event_id,
        claim.endpoint_id,
        claim.locked_until
    )
    .execute(&mut *conn)
    .await?;
    if a.succeeded {
        sqlx::query!("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1", a.endpoint_id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query!(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?2) WHERE id = ?1",
        a.endpoint_id,
        a.attempted_at
    )
    .execute(&mut *conn)
    .await?;
    let (failing_before, at) = (earlier(disable.after), now());
    sqlx::query!(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?2, updated_at = ?4 \
         WHERE id = ?1 AND enabled = 1 AND failing_since <= ?3",
        a.endpoint_id,
        disable.reason,
        failing_before,
        at
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Schedules the event's delivery to the scope's enabled endpoints subscribed to its type, or to
/// the one endpoint named (whatever it subscribes to); a delivery already there starts over.
/// Returns the endpoints it is scheduled for.
pub(super) async fn enqueue(
    conn: &mut SqliteConnection,
    scope: Scope,
    event_id: Uuid,
    event_type: &str,
    endpoint_id: Option<Uuid>,
) -> std::result::Result<Vec<Uuid>, sqlx::Error> {
    let at = now();
    sqlx::query_scalar!(
        r#"INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, created_at)
         SELECT ?4, id, 'pending', 0, ?6, ?6 FROM webhook_endpoints
         WHERE organization_id = ?1 AND livemode = ?2 AND (id = ?5 OR (?5 IS NULL AND enabled = 1
           AND (event_types IS NULL OR EXISTS (SELECT 1 FROM json_each(event_types) WHERE value = ?3))))
         ON CONFLICT (event_id, endpoint_id) DO UPDATE
         SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, locked_until = NULL
         RETURNING endpoint_id AS "endpoint_id!: Uuid""#,
        scope.organization_id,
        scope.livemode,
        event_type,
        event_id,
        endpoint_id,
        at
    )
    .fetch_all(conn)
    .await
}

/// The one writer's `BEGIN IMMEDIATE` already keeps every other writer out until this transaction
/// ends: the count holds.
pub(super) async fn count_endpoints_locked(writer: &mut Writer, scope: Scope) -> Result<i64> {
    let count = sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "count!: i64" FROM webhook_endpoints WHERE organization_id = ?1 AND livemode = ?2"#,
        scope.organization_id,
        scope.livemode
    )
    .fetch_one(writer.conn())
    .await;
    writer.check(count)
}

pub(super) async fn insert_endpoint(writer: &mut Writer, e: &WebhookEndpointRecord) -> Result<()> {
    let inserted = insert_webhook_endpoint!(e).execute(writer.conn()).await;
    writer.check(inserted)?;
    Ok(())
}
