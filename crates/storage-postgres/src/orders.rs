//! Orders on PostgreSQL.

use super::*;
use sqlx::types::Json;

#[async_trait]
impl OrderStorage for PgStorage {
    async fn order(&self, scope: Scope, id: Uuid) -> Result<Option<OrderRecord>> {
        sqlx::query_as!(
            OrderRecord,
            r#"SELECT id, organization_id, livemode, total_cost_cents, currency,
             numbers AS "numbers: Json<serde_json::Value>", created_at
             FROM number_orders WHERE id = $1 AND organization_id = $2 AND livemode = $3"#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn orders(&self, scope: Scope, window: Window) -> Result<Counted<OrderRecord>> {
        read_page!(window, classify, |w| {
            sqlx::query_as!(
                OrderPageRow,
                r#"SELECT id, organization_id, livemode, total_cost_cents, currency,
             numbers AS "numbers: Json<serde_json::Value>", created_at,
             (SELECT COUNT(*) FROM number_orders WHERE organization_id = $1 AND livemode = $2) AS "total!"
             FROM number_orders WHERE organization_id = $1 AND livemode = $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"#,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }
}

pub(super) async fn insert_order(held: &mut Held, order: &OrderRecord) -> Result<()> {
    let inserted = insert_order!(order).execute(held.conn()).await;
    held.check(inserted)?;
    Ok(())
}
