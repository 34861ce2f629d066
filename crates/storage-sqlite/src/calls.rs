//! The SIP server's questions on SQLite: one indexed read each (the statements are the same on
//! both databases: `kros_storage::statements`).

use super::*;

#[async_trait]
impl CallStorage for SqliteStorage {
    async fn inbound_route(&self, livemode: bool, e164: &str) -> Result<Option<InboundRouteRecord>> {
        inbound_route_query!(e164, livemode).fetch_optional(&self.pools.read().await.readers).await.map_err(classify)
    }

    async fn sip_account(&self, sip_username: &str) -> Result<Option<SipAccountRecord>> {
        sip_account_query!(sip_username).fetch_optional(&self.pools.read().await.readers).await.map_err(classify)
    }

    async fn insert_call_decisions(&self, decisions: &[CallDecisionRecord]) -> Result<()> {
        let (_gate, writer) = self.writer().await?;
        let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
        for decision in decisions {
            let inserted = insert_call_decision!(decision).execute(tx.conn()).await;
            tx.check(inserted)?;
        }
        tx.finish("COMMIT").await
    }

    async fn call_decisions(&self, scope: Scope, number_id: Uuid, limit: i64) -> Result<Vec<CallDecisionRecord>> {
        call_decisions_query!(scope, number_id, limit)
            .fetch_all(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn forget_call_decisions_before(&self, at: Timestamp) -> Result<u64> {
        let forgotten = self.write(sqlx::query!("DELETE FROM call_decisions WHERE decided_at < ?1", at)).await?;
        Ok(forgotten.rows_affected())
    }
}
