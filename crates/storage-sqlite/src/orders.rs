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
        const MINE: &str = "organization_id = ?1 AND livemode = ?2";
        let rows = sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS}, (SELECT COUNT(*) FROM number_orders WHERE {MINE}) AS total FROM number_orders \
             WHERE {MINE} ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&pools.readers)
        .await
        .map_err(classify)?;
        let count_sql = format!("SELECT COUNT(*) FROM number_orders WHERE {MINE}");
        let count =
            sqlx::query_scalar(&count_sql).bind(scope.organization_id).bind(scope.livemode).fetch_one(&pools.readers);
        counted(rows, window, count, classify).await
    }
}

pub(super) async fn insert_order(writer: &mut Writer, order: &OrderRecord) -> Result<()> {
    let inserted = sqlx::query!(
        "INSERT INTO number_orders (id, organization_id, livemode, total_cost_cents, currency, numbers, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        order.id,
        order.organization_id,
        order.livemode,
        order.total_cost_cents,
        order.currency,
        order.numbers,
        order.created_at
    )
    .execute(writer.conn())
    .await;
    writer.check(inserted)?;
    Ok(())
}
