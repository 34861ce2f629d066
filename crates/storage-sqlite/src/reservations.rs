//! Reservations on SQLite: holds are judged against this process's clock (every process sharing a
//! SQLite file is on the same machine), and the one writer orders every hold and claim.

use super::*;
use sqlx::QueryBuilder;

#[async_trait]
impl ReservationStorage for SqliteStorage {
    async fn reservation(&self, scope: Scope, id: Uuid) -> Result<Option<ReservationRecord>> {
        sqlx::query_as!(
            ReservationRecord,
            r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool",
             created_at AS "created_at: Timestamp", expires_at AS "expires_at: Timestamp"
             FROM number_reservations WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3"#,
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn reservations(&self, scope: Scope, window: Window) -> Result<Counted<ReservationRecord>> {
        let pools = self.pools.read().await;
        read_page!(window, classify, |w| {
            sqlx::query_as!(
                ReservationPageRow,
                r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool",
             created_at AS "created_at: Timestamp", expires_at AS "expires_at: Timestamp",
             (SELECT COUNT(*) FROM number_reservations WHERE organization_id = ?1 AND livemode = ?2)
             AS "total!: i64"
             FROM number_reservations WHERE organization_id = ?1 AND livemode = ?2
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"#,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }

    async fn reserved_numbers(&self, reservation_ids: &[Uuid]) -> Result<Vec<ReservedNumberRecord>> {
        if reservation_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Built at run time: one bind per id (SQLite has no array to bind).
        let mut query = QueryBuilder::new(
            "SELECT r.reservation_id, r.outcome, i.id, i.livemode, i.e164, i.country, i.number_type, \
             i.setup_cost_cents, i.monthly_cost_cents, i.currency, i.available, i.created_at, i.held_by, \
             i.held_until FROM number_reservation_items r JOIN inventory_numbers i ON i.id = r.inventory_id \
             WHERE r.reservation_id IN (",
        );
        let mut ids = query.separated(", ");
        for id in reservation_ids {
            ids.push_bind(*id);
        }
        query.push(") ORDER BY r.reservation_id, r.position");
        let rows: Vec<ReservedNumberRow> =
            query.build_query_as().fetch_all(&self.pools.read().await.readers).await.map_err(classify)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn clean_up_reservations(&self, keep: Duration) -> Result<(u64, u64)> {
        let (_gate, writer) = self.writer().await?;
        let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
        let at = now();
        let cleared = sqlx::query!(
            "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL WHERE held_until <= ?1",
            at
        )
        .execute(tx.conn())
        .await;
        let cleared = tx.check(cleared)?.rows_affected();
        let cutoff = at - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        let items = sqlx::query!(
            "DELETE FROM number_reservation_items WHERE reservation_id IN \
             (SELECT id FROM number_reservations WHERE expires_at < ?1)",
            cutoff
        )
        .execute(tx.conn())
        .await;
        tx.check(items)?;
        let forgotten =
            sqlx::query!("DELETE FROM number_reservations WHERE expires_at < ?1", cutoff).execute(tx.conn()).await;
        let forgotten = tx.check(forgotten)?.rows_affected();
        tx.finish("COMMIT").await?;
        Ok((cleared, forgotten))
    }
}

/// The buyer's own valid hold on the number, if any (read before the claim clears it).
pub(super) async fn own_hold(writer: &mut Writer, organization_id: Uuid, id: Uuid) -> Result<Option<Uuid>> {
    let at = now();
    let hold = sqlx::query_scalar!(
        r#"SELECT hold_id AS "hold_id!: Uuid" FROM inventory_numbers
         WHERE id = ?1 AND held_by = ?2 AND held_until > ?3 AND hold_id IS NOT NULL"#,
        id,
        organization_id,
        at
    )
    .fetch_optional(writer.conn())
    .await;
    writer.check(hold)
}

/// Records that the number of the reservation was bought under its hold.
pub(super) async fn mark_purchased(writer: &mut Writer, reservation_id: Uuid, inventory_id: Uuid) -> Result<()> {
    let marked = sqlx::query!(
        "UPDATE number_reservation_items SET outcome = 'purchased' \
         WHERE reservation_id = ?1 AND inventory_id = ?2 AND outcome IS NULL",
        reservation_id,
        inventory_id
    )
    .execute(writer.conn())
    .await;
    writer.check(marked)?;
    Ok(())
}

pub(super) async fn insert_reservation(
    writer: &mut Writer,
    scope: Scope,
    id: Uuid,
    hold: Duration,
) -> Result<ReservationRecord> {
    let created_at = now();
    let record = ReservationRecord {
        id,
        organization_id: scope.organization_id,
        livemode: scope.livemode,
        created_at,
        expires_at: created_at + chrono::Duration::from_std(hold).unwrap_or(chrono::Duration::MAX),
    };
    let inserted = sqlx::query!(
        "INSERT INTO number_reservations (id, organization_id, livemode, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        record.id,
        record.organization_id,
        record.livemode,
        record.created_at,
        record.expires_at
    )
    .execute(writer.conn())
    .await;
    writer.check(inserted)?;
    Ok(record)
}

pub(super) async fn hold_inventory(
    writer: &mut Writer,
    reservation: &ReservationRecord,
    inventory_ids: &[Uuid],
) -> Result<Option<Uuid>> {
    let at = now();
    for (position, id) in inventory_ids.iter().enumerate() {
        // A hold of the organization's own on it moves here: its earlier reservation says so.
        let moved = sqlx::query!(
            "UPDATE number_reservation_items SET outcome = 'moved' WHERE inventory_id = ?1 AND outcome IS NULL \
             AND reservation_id = (SELECT hold_id FROM inventory_numbers WHERE id = ?1 AND held_by = ?2 AND held_until > ?3)",
            id,
            reservation.organization_id,
            at
        )
        .execute(writer.conn())
        .await;
        writer.check(moved)?;
        let held = sqlx::query!(
            "UPDATE inventory_numbers SET held_by = ?2, held_until = ?4, hold_id = ?5 \
             WHERE id = ?1 AND livemode = ?6 AND available = 1 AND (held_until IS NULL OR held_until <= ?3 OR held_by = ?2)",
            id,
            reservation.organization_id,
            at,
            reservation.expires_at,
            reservation.id,
            reservation.livemode
        )
        .execute(writer.conn())
        .await;
        if writer.check(held)?.rows_affected() == 0 {
            return Ok(Some(*id));
        }
        let position = position as i64;
        let item = sqlx::query!(
            "INSERT INTO number_reservation_items (reservation_id, inventory_id, position) VALUES (?1, ?2, ?3)",
            reservation.id,
            id,
            position
        )
        .execute(writer.conn())
        .await;
        writer.check(item)?;
    }
    Ok(None)
}

pub(super) async fn unheld_inventory(
    writer: &mut Writer,
    filter: &InventoryFilter,
    quantity: i64,
) -> Result<Vec<InventoryRecord>> {
    let at = now();
    let found = inventory_query!(
        InventoryRecord,
        "SELECT",
        "FROM inventory_numbers WHERE livemode = ?1 AND available = 1 AND country = ?2 \
         AND (?3 IS NULL OR number_type = ?3) AND (?4 IS NULL OR e164 LIKE '%' || ?4 || '%') \
         AND (held_until IS NULL OR held_until <= ?5) ORDER BY e164 LIMIT ?6",
        filter.livemode,
        filter.country,
        filter.number_type,
        filter.contains,
        at,
        quantity
    )
    .fetch_all(writer.conn())
    .await;
    writer.check(found)
}

pub(super) async fn delete_reservation(writer: &mut Writer, scope: Scope, id: Uuid) -> Result<bool> {
    let mine = sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "count!: i64" FROM number_reservations WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3"#,
        id,
        scope.organization_id,
        scope.livemode
    )
    .fetch_one(writer.conn())
    .await;
    if writer.check(mine)? == 0 {
        return Ok(false);
    }
    let freed = sqlx::query!(
        "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL WHERE hold_id = ?1",
        id
    )
    .execute(writer.conn())
    .await;
    writer.check(freed)?;
    let items =
        sqlx::query!("DELETE FROM number_reservation_items WHERE reservation_id = ?1", id).execute(writer.conn()).await;
    writer.check(items)?;
    let deleted = sqlx::query!("DELETE FROM number_reservations WHERE id = ?1", id).execute(writer.conn()).await;
    writer.check(deleted)?;
    Ok(true)
}
