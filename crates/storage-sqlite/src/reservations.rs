//! Reservations on SQLite: holds are judged against this process's clock (every process sharing a
//! SQLite file is on the same machine), and the one writer orders every hold and claim.

use super::*;
use sqlx::QueryBuilder;

#[async_trait]
impl ReservationStorage for SqliteStorage {
    async fn reservation(&self, scope: Scope, id: Uuid) -> Result<Option<ReservationRecord>> {
        sqlx::query_as("SELECT * FROM number_reservations WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3")
            .bind(id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .fetch_optional(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn reservations(&self, scope: Scope, window: Window) -> Result<Counted<ReservationRecord>> {
        let pools = self.pools.read().await;
        const MINE: &str = "organization_id = ?1 AND livemode = ?2";
        let rows = sqlx::query_as(&format!(
            "SELECT *, (SELECT COUNT(*) FROM number_reservations WHERE {MINE}) AS total FROM number_reservations \
             WHERE {MINE} ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&pools.readers)
        .await
        .map_err(classify)?;
        let count_sql = format!("SELECT COUNT(*) FROM number_reservations WHERE {MINE}");
        let count =
            sqlx::query_scalar(&count_sql).bind(scope.organization_id).bind(scope.livemode).fetch_one(&pools.readers);
        counted(rows, window, count, classify).await
    }

    async fn reserved_numbers(&self, reservation_ids: &[Uuid]) -> Result<Vec<ReservedNumberRecord>> {
        if reservation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::new(format!(
            "SELECT r.reservation_id, r.outcome, {} FROM number_reservation_items r \
             JOIN inventory_numbers i ON i.id = r.inventory_id WHERE r.reservation_id IN (",
            inventory_columns("i")
        ));
        let mut ids = query.separated(", ");
        for id in reservation_ids {
            ids.push_bind(*id);
        }
        query.push(") ORDER BY r.reservation_id, r.position");
        query.build_query_as().fetch_all(&self.pools.read().await.readers).await.map_err(classify)
    }

    async fn clean_up_reservations(&self, keep: Duration) -> Result<(u64, u64)> {
        let (_gate, writer) = self.writer().await?;
        let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
        let at = now();
        let cleared = sqlx::query(
            "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL WHERE held_until <= ?1",
        )
        .bind(at)
        .execute(tx.conn())
        .await;
        let cleared = tx.check(cleared)?.rows_affected();
        let cutoff = at - chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
        const ENDED: &str = "SELECT id FROM number_reservations WHERE expires_at < ?1";
        let items = sqlx::query(&format!("DELETE FROM number_reservation_items WHERE reservation_id IN ({ENDED})"))
            .bind(cutoff)
            .execute(tx.conn())
            .await;
        tx.check(items)?;
        let forgotten = sqlx::query(&format!("DELETE FROM number_reservations WHERE id IN ({ENDED})"))
            .bind(cutoff)
            .execute(tx.conn())
            .await;
        let forgotten = tx.check(forgotten)?.rows_affected();
        tx.finish("COMMIT").await?;
        Ok((cleared, forgotten))
    }
}

/// The buyer's own valid hold on the number, if any (read before the claim clears it).
pub(super) async fn own_hold(writer: &mut Writer, organization_id: Uuid, id: Uuid) -> Result<Option<Uuid>> {
    let hold = sqlx::query_scalar(
        "SELECT hold_id FROM inventory_numbers WHERE id = ?1 AND held_by = ?2 AND held_until > ?3 AND hold_id IS NOT NULL",
    )
    .bind(id)
    .bind(organization_id)
    .bind(now())
    .fetch_optional(writer.conn())
    .await;
    writer.check(hold)
}

/// Records that the number of the reservation was bought under its hold.
pub(super) async fn mark_purchased(writer: &mut Writer, reservation_id: Uuid, inventory_id: Uuid) -> Result<()> {
    let marked = sqlx::query(
        "UPDATE number_reservation_items SET outcome = 'purchased' \
         WHERE reservation_id = ?1 AND inventory_id = ?2 AND outcome IS NULL",
    )
    .bind(reservation_id)
    .bind(inventory_id)
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
    let inserted = sqlx::query(
        "INSERT INTO number_reservations (id, organization_id, livemode, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(record.id)
    .bind(record.organization_id)
    .bind(record.livemode)
    .bind(record.created_at)
    .bind(record.expires_at)
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
        let moved = sqlx::query(
            "UPDATE number_reservation_items SET outcome = 'moved' WHERE inventory_id = ?1 AND outcome IS NULL \
             AND reservation_id = (SELECT hold_id FROM inventory_numbers WHERE id = ?1 AND held_by = ?2 AND held_until > ?3)",
        )
        .bind(id)
        .bind(reservation.organization_id)
        .bind(at)
        .execute(writer.conn())
        .await;
        writer.check(moved)?;
        let held = sqlx::query(
            "UPDATE inventory_numbers SET held_by = ?2, held_until = ?4, hold_id = ?5 \
             WHERE id = ?1 AND livemode = ?6 AND available = 1 AND (held_until IS NULL OR held_until <= ?3 OR held_by = ?2)",
        )
        .bind(id)
        .bind(reservation.organization_id)
        .bind(at)
        .bind(reservation.expires_at)
        .bind(reservation.id)
        .bind(reservation.livemode)
        .execute(writer.conn())
        .await;
        if writer.check(held)?.rows_affected() == 0 {
            return Ok(Some(*id));
        }
        let item = sqlx::query(
            "INSERT INTO number_reservation_items (reservation_id, inventory_id, position) VALUES (?1, ?2, ?3)",
        )
        .bind(reservation.id)
        .bind(id)
        .bind(position as i64)
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
    let found = sqlx::query_as(&format!(
        "SELECT {INVENTORY_READ} FROM inventory_numbers WHERE livemode = ?1 AND available = 1 AND country = ?2 \
         AND (?3 IS NULL OR number_type = ?3) AND (?4 IS NULL OR e164 LIKE '%' || ?4 || '%') \
         AND (held_until IS NULL OR held_until <= ?5) ORDER BY e164 LIMIT ?6"
    ))
    .bind(filter.livemode)
    .bind(&filter.country)
    .bind(filter.number_type)
    .bind(&filter.contains)
    .bind(now())
    .bind(quantity)
    .fetch_all(writer.conn())
    .await;
    writer.check(found)
}

pub(super) async fn delete_reservation(writer: &mut Writer, scope: Scope, id: Uuid) -> Result<bool> {
    let mine = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM number_reservations WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
    )
    .bind(id)
    .bind(scope.organization_id)
    .bind(scope.livemode)
    .fetch_one(writer.conn())
    .await;
    if writer.check(mine)? == 0 {
        return Ok(false);
    }
    for statement in [
        "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL WHERE hold_id = ?1",
        "DELETE FROM number_reservation_items WHERE reservation_id = ?1",
        "DELETE FROM number_reservations WHERE id = ?1",
    ] {
        let done = sqlx::query(statement).bind(id).execute(writer.conn()).await;
        writer.check(done)?;
    }
    Ok(true)
}
