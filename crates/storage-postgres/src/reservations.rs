//! Reservations on PostgreSQL: every time is the database's (`now()`, the transaction's start),
//! which all processes share; holds take the inventory rows in id order, so that two
//! transactions holding overlapping sets never deadlock.

use super::*;

/// Frees the holds of the rows it is given.
const FREE: &str = "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL";
/// Every statement that changes several inventory rows locks them in id order (no deadlocks).
const IN_LOCK_ORDER: &str = "ORDER BY id FOR UPDATE";

#[async_trait]
impl ReservationStorage for PgStorage {
    async fn reservation(&self, scope: Scope, id: Uuid) -> Result<Option<ReservationRecord>> {
        sqlx::query_as("SELECT * FROM number_reservations WHERE id = $1 AND organization_id = $2 AND livemode = $3")
            .bind(id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    async fn reservations(&self, scope: Scope, window: Window) -> Result<Counted<ReservationRecord>> {
        const MINE: &str = "organization_id = $1 AND livemode = $2";
        let rows = sqlx::query_as(&format!(
            "SELECT *, (SELECT COUNT(*) FROM number_reservations WHERE {MINE}) AS total FROM number_reservations \
             WHERE {MINE} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(scope.organization_id)
        .bind(scope.livemode)
        .bind(window.limit)
        .bind(window.offset)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let count_sql = format!("SELECT COUNT(*) FROM number_reservations WHERE {MINE}");
        let count =
            sqlx::query_scalar(&count_sql).bind(scope.organization_id).bind(scope.livemode).fetch_one(&self.pool);
        counted(rows, window, count, classify).await
    }

    async fn reserved_numbers(&self, reservation_ids: &[Uuid]) -> Result<Vec<ReservedNumberRecord>> {
        sqlx::query_as(&format!(
            "SELECT r.reservation_id, r.outcome, {} FROM number_reservation_items r \
             JOIN inventory_numbers i ON i.id = r.inventory_id WHERE r.reservation_id = ANY($1) \
             ORDER BY r.reservation_id, r.position",
            inventory_columns("i")
        ))
        .bind(reservation_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn clean_up_reservations(&self, keep: Duration) -> Result<(u64, u64)> {
        let mut tx = self.held().await?.begin("BEGIN").await?;
        // Rows another transaction holds locked are being bought or held anew: left to it.
        let cleared = sqlx::query(&format!(
            "{FREE} WHERE id IN (SELECT id FROM inventory_numbers WHERE held_until <= now() {IN_LOCK_ORDER} SKIP LOCKED)"
        ))
        .execute(tx.conn())
        .await;
        let cleared = tx.check(cleared)?.rows_affected();
        // Items go with their reservation (ON DELETE CASCADE).
        let forgotten =
            sqlx::query("DELETE FROM number_reservations WHERE expires_at < now() - make_interval(secs => $1)")
                .bind(seconds(keep))
                .execute(tx.conn())
                .await;
        let forgotten = tx.check(forgotten)?.rows_affected();
        tx.finish("COMMIT").await?;
        Ok((cleared, forgotten))
    }
}

/// The buyer's own valid hold on the number, if any; the row stays locked for the claim.
pub(super) async fn own_hold(held: &mut Held, organization_id: Uuid, id: Uuid) -> Result<Option<Uuid>> {
    let hold: Result<Option<Option<Uuid>>, _> = sqlx::query_scalar(
        "SELECT CASE WHEN held_by = $2 AND held_until > now() THEN hold_id END FROM inventory_numbers \
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .bind(organization_id)
    .fetch_optional(held.conn())
    .await;
    Ok(held.check(hold)?.flatten())
}

/// Records that the number of the reservation was bought under its hold.
pub(super) async fn mark_purchased(held: &mut Held, reservation_id: Uuid, inventory_id: Uuid) -> Result<()> {
    let marked = sqlx::query(
        "UPDATE number_reservation_items SET outcome = 'purchased' \
         WHERE reservation_id = $1 AND inventory_id = $2 AND outcome IS NULL",
    )
    .bind(reservation_id)
    .bind(inventory_id)
    .execute(held.conn())
    .await;
    held.check(marked)?;
    Ok(())
}

pub(super) async fn insert_reservation(
    held: &mut Held,
    scope: Scope,
    id: Uuid,
    hold: Duration,
) -> Result<ReservationRecord> {
    let inserted = sqlx::query_as(
        "INSERT INTO number_reservations (id, organization_id, livemode, created_at, expires_at) \
         VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4)) RETURNING *",
    )
    .bind(id)
    .bind(scope.organization_id)
    .bind(scope.livemode)
    .bind(seconds(hold))
    .fetch_one(held.conn())
    .await;
    held.check(inserted)
}

pub(super) async fn hold_inventory(
    held: &mut Held,
    reservation: &ReservationRecord,
    inventory_ids: &[Uuid],
) -> Result<Option<Uuid>> {
    let mut in_lock_order: Vec<(usize, Uuid)> = inventory_ids.iter().copied().enumerate().collect();
    in_lock_order.sort_by_key(|(_, id)| *id);
    for (position, id) in in_lock_order {
        // The row is locked first, so that a hold of the organization's own is read as it is.
        let earlier = own_hold(held, reservation.organization_id, id).await?;
        let taken = sqlx::query(
            "UPDATE inventory_numbers SET held_by = $2, held_until = $3, hold_id = $4 \
             WHERE id = $1 AND livemode = $5 AND available AND (held_until IS NULL OR held_until <= now() OR held_by = $2)",
        )
        .bind(id)
        .bind(reservation.organization_id)
        .bind(reservation.expires_at)
        .bind(reservation.id)
        .bind(reservation.livemode)
        .execute(held.conn())
        .await;
        if held.check(taken)?.rows_affected() == 0 {
            return Ok(Some(id));
        }
        if let Some(earlier) = earlier {
            let moved = sqlx::query(
                "UPDATE number_reservation_items SET outcome = 'moved' \
                 WHERE reservation_id = $1 AND inventory_id = $2 AND outcome IS NULL",
            )
            .bind(earlier)
            .bind(id)
            .execute(held.conn())
            .await;
            held.check(moved)?;
        }
        let item = sqlx::query(
            "INSERT INTO number_reservation_items (reservation_id, inventory_id, position) VALUES ($1, $2, $3)",
        )
        .bind(reservation.id)
        .bind(id)
        .bind(position as i32)
        .execute(held.conn())
        .await;
        held.check(item)?;
    }
    Ok(None)
}

pub(super) async fn unheld_inventory(
    held: &mut Held,
    filter: &InventoryFilter,
    quantity: i64,
) -> Result<Vec<InventoryRecord>> {
    let found = sqlx::query_as(&format!(
        "SELECT {INVENTORY_READ} FROM inventory_numbers WHERE livemode = $1 AND available AND country = $2 \
         AND ($3::number_type IS NULL OR number_type = $3) AND ($4::text IS NULL OR e164 LIKE '%' || $4 || '%') \
         AND (held_until IS NULL OR held_until <= now()) ORDER BY e164 LIMIT $5 FOR UPDATE SKIP LOCKED"
    ))
    .bind(filter.livemode)
    .bind(&filter.country)
    .bind(filter.number_type)
    .bind(&filter.contains)
    .bind(quantity)
    .fetch_all(held.conn())
    .await;
    held.check(found)
}

pub(super) async fn delete_reservation(held: &mut Held, scope: Scope, id: Uuid) -> Result<bool> {
    // Its items go with it (ON DELETE CASCADE); its holds are freed first.
    let freed = sqlx::query(&format!(
        "{FREE} WHERE id IN (SELECT i.id FROM inventory_numbers i JOIN number_reservations r ON r.id = i.hold_id \
         WHERE r.id = $1 AND r.organization_id = $2 AND r.livemode = $3 ORDER BY i.id FOR UPDATE OF i)"
    ))
    .bind(id)
    .bind(scope.organization_id)
    .bind(scope.livemode)
    .execute(held.conn())
    .await;
    held.check(freed)?;
    let deleted =
        sqlx::query("DELETE FROM number_reservations WHERE id = $1 AND organization_id = $2 AND livemode = $3")
            .bind(id)
            .bind(scope.organization_id)
            .bind(scope.livemode)
            .execute(held.conn())
            .await;
    Ok(held.check(deleted)?.rows_affected() == 1)
}
