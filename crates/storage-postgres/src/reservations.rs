//! Reservations on PostgreSQL: every time is the database's (`now()`, the transaction's start),
//! which all processes share; holds take the inventory rows in id order, so that two
//! transactions holding overlapping sets never deadlock.

use super::*;

#[async_trait]
impl ReservationStorage for PgStorage {
    async fn reservation(&self, scope: Scope, id: Uuid) -> Result<Option<ReservationRecord>> {
        sqlx::query_as!(
            ReservationRecord,
            "SELECT id, organization_id, livemode, created_at, expires_at FROM number_reservations \
             WHERE id = $1 AND organization_id = $2 AND livemode = $3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn reservations(&self, scope: Scope, window: Window) -> Result<Counted<ReservationRecord>> {
        read_page!(window, classify, |w| {
            sqlx::query_as!(
                ReservationPageRow,
                r#"SELECT id, organization_id, livemode, created_at, expires_at,
             (SELECT COUNT(*) FROM number_reservations WHERE organization_id = $1 AND livemode = $2) AS "total!"
             FROM number_reservations WHERE organization_id = $1 AND livemode = $2
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"#,
                scope.organization_id,
                scope.livemode,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }

    async fn reserved_numbers(&self, reservation_ids: &[Uuid]) -> Result<Vec<ReservedNumberRecord>> {
        let rows = sqlx::query_as!(
            ReservedNumberRow,
            r#"SELECT r.reservation_id, r.outcome AS "outcome: ItemOutcome", i.id, i.livemode, i.e164, i.country,
             i.number_type AS "number_type: kros_domain::NumberType", i.setup_cost_cents, i.monthly_cost_cents,
             i.currency, i.available, i.created_at, i.held_by, i.held_until
             FROM number_reservation_items r JOIN inventory_numbers i ON i.id = r.inventory_id
             WHERE r.reservation_id = ANY($1) ORDER BY r.reservation_id, r.position"#,
            reservation_ids
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn clean_up_reservations(&self, keep: Duration) -> Result<(u64, u64)> {
        let mut tx = self.held().await?.begin("BEGIN").await?;
        // Rows another transaction holds locked are being bought or held anew: left to it. Rows
        // are locked in id order, as every statement that changes several of them does.
        let cleared = sqlx::query!(
            "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL WHERE id IN \
             (SELECT id FROM inventory_numbers WHERE held_until <= now() ORDER BY id FOR UPDATE SKIP LOCKED)"
        )
        .execute(tx.conn())
        .await;
        let cleared = tx.check(cleared)?.rows_affected();
        // Items go with their reservation (ON DELETE CASCADE).
        let forgotten = sqlx::query!(
            "DELETE FROM number_reservations WHERE expires_at < now() - make_interval(secs => $1)",
            seconds(keep)
        )
        .execute(tx.conn())
        .await;
        let forgotten = tx.check(forgotten)?.rows_affected();
        tx.finish("COMMIT").await?;
        Ok((cleared, forgotten))
    }
}

/// The buyer's own valid hold on the number, if any; the row stays locked for the claim.
pub(super) async fn own_hold(held: &mut Held, organization_id: Uuid, id: Uuid) -> Result<Option<Uuid>> {
    let hold = sqlx::query_scalar!(
        "SELECT CASE WHEN held_by = $2 AND held_until > now() THEN hold_id END FROM inventory_numbers \
         WHERE id = $1 FOR UPDATE",
        id,
        organization_id
    )
    .fetch_optional(held.conn())
    .await;
    Ok(held.check(hold)?.flatten())
}

/// Records that the number of the reservation was bought under its hold.
pub(super) async fn mark_purchased(held: &mut Held, reservation_id: Uuid, inventory_id: Uuid) -> Result<()> {
    let marked = sqlx::query!(
        "UPDATE number_reservation_items SET outcome = 'purchased' \
         WHERE reservation_id = $1 AND inventory_id = $2 AND outcome IS NULL",
        reservation_id,
        inventory_id
    )
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
    let inserted = sqlx::query_as!(
        ReservationRecord,
        "INSERT INTO number_reservations (id, organization_id, livemode, created_at, expires_at) \
         VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4)) \
         RETURNING id, organization_id, livemode, created_at, expires_at",
        id,
        scope.organization_id,
        scope.livemode,
        seconds(hold)
    )
    .fetch_one(held.conn())
    .await;
    held.check(inserted)
}

pub(super) async fn hold_inventory(
    held: &mut Held,
    reservation: &ReservationRecord,
    inventory_ids: &[Uuid],
) -> Result<Option<Uuid>> {
    // Rows are taken in id order, as every statement that changes several of them does.
    let mut in_lock_order: Vec<(usize, Uuid)> = inventory_ids.iter().copied().enumerate().collect();
    in_lock_order.sort_by_key(|(_, id)| *id);
    for (position, id) in in_lock_order {
        // The row is locked first, so that a hold of the organization's own is read as it is.
        let earlier = own_hold(held, reservation.organization_id, id).await?;
        let taken = sqlx::query!(
            "UPDATE inventory_numbers SET held_by = $2, held_until = $3, hold_id = $4 \
             WHERE id = $1 AND livemode = $5 AND available AND (held_until IS NULL OR held_until <= now() OR held_by = $2)",
            id,
            reservation.organization_id,
            reservation.expires_at,
            reservation.id,
            reservation.livemode
        )
        .execute(held.conn())
        .await;
        if held.check(taken)?.rows_affected() == 0 {
            return Ok(Some(id));
        }
        if let Some(earlier) = earlier {
            let moved = sqlx::query!(
                "UPDATE number_reservation_items SET outcome = 'moved' \
                 WHERE reservation_id = $1 AND inventory_id = $2 AND outcome IS NULL",
                earlier,
                id
            )
            .execute(held.conn())
            .await;
            held.check(moved)?;
        }
        let item = sqlx::query!(
            "INSERT INTO number_reservation_items (reservation_id, inventory_id, position) VALUES ($1, $2, $3)",
            reservation.id,
            id,
            position as i32
        )
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
    let found = inventory_query!(
        InventoryRecord,
        "SELECT",
        "FROM inventory_numbers WHERE livemode = $1 AND available AND country = $2 \
         AND ($3::number_type IS NULL OR number_type = $3) AND ($4::text IS NULL OR e164 LIKE '%' || $4 || '%') \
         AND (held_until IS NULL OR held_until <= now()) ORDER BY e164 LIMIT $5 FOR UPDATE SKIP LOCKED",
        filter.livemode,
        filter.country,
        filter.number_type as _,
        filter.contains,
        quantity
    )
    .fetch_all(held.conn())
    .await;
    held.check(found)
}

pub(super) async fn delete_reservation(held: &mut Held, scope: Scope, id: Uuid) -> Result<bool> {
    // Its items go with it (ON DELETE CASCADE); its holds are freed first, in id order.
    let freed = sqlx::query!(
        "UPDATE inventory_numbers SET held_by = NULL, held_until = NULL, hold_id = NULL WHERE id IN \
         (SELECT i.id FROM inventory_numbers i JOIN number_reservations r ON r.id = i.hold_id \
          WHERE r.id = $1 AND r.organization_id = $2 AND r.livemode = $3 ORDER BY i.id FOR UPDATE OF i)",
        id,
        scope.organization_id,
        scope.livemode
    )
    .execute(held.conn())
    .await;
    held.check(freed)?;
    let deleted = sqlx::query!(
        "DELETE FROM number_reservations WHERE id = $1 AND organization_id = $2 AND livemode = $3",
        id,
        scope.organization_id,
        scope.livemode
    )
    .execute(held.conn())
    .await;
    Ok(held.check(deleted)?.rows_affected() == 1)
}
