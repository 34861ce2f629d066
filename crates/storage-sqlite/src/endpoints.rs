//! Call-routing endpoints on SQLite.

use super::*;

#[async_trait]
impl EndpointStorage for SqliteStorage {
    async fn insert_endpoint(&self, scope: Scope, endpoint: &EndpointRecord) -> Result<()> {
        self.write(insert_endpoint!(scope, endpoint)).await?;
        Ok(())
    }

    async fn endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<EndpointRecord>> {
        endpoints_query!(
            EndpointRecord,
            "SELECT",
            " FROM endpoints WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn endpoints(
        &self,
        scope: Scope,
        name_part: Option<&str>,
        window: Window,
    ) -> Result<Counted<EndpointRecord>> {
        let pools = self.pools.read().await;
        // `lower` folds ASCII only on SQLite.
        read_page!(window, classify, |w| {
            endpoints_query!(
                EndpointPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM endpoints
                  WHERE organization_id = ?1 AND livemode = ?2 AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0))
                 AS "total!: i64"
                 FROM endpoints
                 WHERE organization_id = ?1 AND livemode = ?2 AND (?3 IS NULL OR instr(lower(name), lower(?3)) > 0)
                 ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"#,
                scope.organization_id,
                scope.livemode,
                name_part,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }

    async fn endpoints_by_ids(&self, scope: Scope, ids: &[Uuid]) -> Result<Vec<EndpointRecord>> {
        // Built at run time: one bind per id (SQLite has no array to bind).
        let mut query = sqlx::QueryBuilder::new(
            "SELECT id, livemode, name, targets, failover_timeout_secs, created_at, updated_at FROM endpoints \
             WHERE organization_id = ",
        );
        query.push_bind(scope.organization_id).push(" AND livemode = ").push_bind(scope.livemode);
        push_id_in(&mut query, ids).build_query_as().fetch_all(&self.pools.read().await.readers).await.map_err(classify)
    }

    async fn endpoint_exists(&self, scope: Scope, id: Uuid) -> Result<bool> {
        sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM endpoints WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3)
             AS "exists!: bool""#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_one(&self.pools.read().await.readers)
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
        let (_gate, mut writer) = self.writer().await?;
        let changed = change_endpoint!(scope, id, changes, at).fetch_optional(writer.conn()).await;
        writer.check(changed)
    }

    async fn delete_endpoint(&self, scope: Scope, id: Uuid) -> Result<EndpointDeletion> {
        // The one writer's `BEGIN IMMEDIATE` keeps every other writer out until the delete.
        let (_gate, writer) = self.writer().await?;
        let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
        let found = sqlx::query_scalar!(
            r#"SELECT (SELECT COUNT(*) FROM phone_numbers WHERE endpoint_id = e.id AND released_at IS NULL)
             AS "numbers!: i64" FROM endpoints e WHERE e.id = ?1 AND e.organization_id = ?2 AND e.livemode = ?3"#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(tx.conn())
        .await;
        let outcome = match tx.check(found)? {
            None => EndpointDeletion::NotFound,
            Some(numbers) if numbers > 0 => EndpointDeletion::InUse { numbers },
            Some(_) => {
                let deleted = sqlx::query!("DELETE FROM endpoints WHERE id = ?1", id).execute(tx.conn()).await;
                tx.check(deleted)?;
                EndpointDeletion::Deleted
            }
        };
        tx.finish("COMMIT").await?;
        Ok(outcome)
    }
}
