//! Orders on SQLite.

use super::*;
use sqlx::types::Json;

#[async_trait]
impl OrderStorage for SqliteStorage {
    async fn order(&self, scope: Scope, id: Uuid) -> Result<Option<OrderRecord>> {
        sqlx::query_as!(
            OrderRecord,
            r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool",
             total_cost_cents, currency, numbers AS "numbers: Json<serde_json::Value>",
             created_at AS "created_at: Timestamp"
             FROM number_orders WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3"#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn orders(&self, scope: Scope, window: Window) -> Result<Counted<OrderRecord>> {
        let pools = self.pools.read().await;
        read_page!(window, classify, |w| {
            sqlx::query_as!(
                OrderPageRow,
                r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool",
             total_cost_cents, currency, numbers AS "numbers: Json<serde_json::Value>",
             created_at AS "created_at: Timestamp",
             (SELECT COUNT(*) FROM number_orders WHERE organization_id = ?1 AND livemode = ?2) AS "total!: i64"
             FROM number_orders WHERE organization_id = ?1 AND livemode = ?2
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"#,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }
}

pub(super) async fn insert_order(writer: &mut Writer, order: &OrderRecord) -> Result<()> {
    let inserted = insert_order!(order).execute(writer.conn()).await;
    writer.check(inserted)?;
    Ok(())
}
