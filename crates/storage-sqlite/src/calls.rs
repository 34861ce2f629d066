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
}
