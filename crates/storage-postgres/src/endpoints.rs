//! Call-routing endpoints on PostgreSQL.

use super::*;

#[async_trait]
impl EndpointStorage for PgStorage {
    async fn insert_endpoint(&self, scope: Scope, endpoint: &EndpointRecord) -> Result<()> {
        self.write(insert_endpoint!(scope, endpoint)).await?;
        Ok(())
    }

    async fn endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<EndpointRecord>> {
        endpoints_query!(
            EndpointRecord,
            "SELECT",
            " FROM endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn endpoints(
        &self,
        scope: Scope,
        name_part: Option<&str>,
        window: Window,
    ) -> Result<Counted<EndpointRecord>> {
        read_page!(window, classify, |w| {
            endpoints_query!(
                EndpointPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM endpoints
                  WHERE organization_id = $1 AND livemode = $2 AND ($3::text IS NULL OR strpos(lower(name), lower($3)) > 0))
                 AS "total!"
                 FROM endpoints
                 WHERE organization_id = $1 AND livemode = $2 AND ($3::text IS NULL OR strpos(lower(name), lower($3)) > 0)
                 ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"#,
                scope.organization_id,
                scope.livemode,
                name_part,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }

    async fn endpoints_by_ids(&self, scope: Scope, ids: &[Uuid]) -> Result<Vec<EndpointRecord>> {
        endpoints_query!(
            EndpointRecord,
            "SELECT",
            " FROM endpoints WHERE organization_id = $1 AND livemode = $2 AND id = ANY($3)",
            scope.organization_id,
            scope.livemode,
            ids
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn endpoint_exists(&self, scope: Scope, id: Uuid) -> Result<bool> {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3)
             AS "exists!""#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_one(&self.pool)
        .await
        .map_err(classify)
    }

    async fn change_endpoint(
        &self,
        scope: Scope,
        id: Uuid,
        changes: &EndpointChanges,
        at: Timestamp,
    ) -> Result<Option<EndpointRecord>> {
        let mut held = self.held().await?;
        let changed = change_endpoint!(scope, id, changes, at).fetch_optional(held.conn()).await;
        held.check(changed)
    }

    async fn delete_endpoint(&self, scope: Scope, id: Uuid) -> Result<EndpointDeletion> {
        // The endpoint's row locked first: a number being attached to it takes a key-share lock
        // on it (the foreign key), so none can be attached between the count and the delete.
        let mut tx = self.held().await?.begin("BEGIN").await?;
        let locked = sqlx::query_scalar!(
            "SELECT id FROM endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3 FOR UPDATE",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(tx.conn())
        .await;
        if tx.check(locked)?.is_none() {
            tx.finish("ROLLBACK").await?;
            return Ok(EndpointDeletion::NotFound);
        }
        let numbers = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "numbers!" FROM phone_numbers WHERE endpoint_id = $1 AND released_at IS NULL"#,
            id
        )
        .fetch_one(tx.conn())
        .await;
        let numbers = tx.check(numbers)?;
        if numbers > 0 {
            tx.finish("ROLLBACK").await?;
            return Ok(EndpointDeletion::InUse { numbers });
        }
        let deleted = sqlx::query!("DELETE FROM endpoints WHERE id = $1", id).execute(tx.conn()).await;
        tx.check(deleted)?;
        tx.finish("COMMIT").await?;
        Ok(EndpointDeletion::Deleted)
    }
}
