//! The inventory of numbers for sale, per mode.

use super::uuid_column;
use crate::db::{self, Db, Tx};
use crate::domain::parse::{parse_cents, parse_enum, CountryCode, Currency, DigitPattern, E164, PageRequest};
use crate::domain::{InventoryNumber, Mode, NumberType, Page};
use crate::error::AppError;
use sqlx::{FromRow, Row};
use uuid::Uuid;

const COLUMNS: &str =
    "id, e164, country, number_type, setup_cost_cents, monthly_cost_cents, currency, available";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct InventoryRow {
    pub id: String,
    pub e164: String,
    pub country: String,
    pub number_type: String,
    pub setup_cost_cents: i64,
    pub monthly_cost_cents: i64,
    pub currency: String,
    pub available: i64,
}

impl InventoryRow {
    fn to_inventory_number(&self) -> Result<InventoryNumber, AppError> {
        Ok(InventoryNumber {
            id: uuid_column(&self.id)?,
            e164: self.e164.clone(),
            country: self.country.clone(),
            number_type: self.number_type.parse().map_err(AppError::internal)?,
            setup_cost_cents: self.setup_cost_cents,
            monthly_cost_cents: self.monthly_cost_cents,
            currency: self.currency.clone(),
        })
    }
}

pub(crate) async fn find_by_id(db: &Db, livemode: bool, id: &str) -> Result<Option<InventoryRow>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM inventory_numbers WHERE id = $1 AND livemode = $2"))
        .bind(id)
        .bind(db::flag(livemode))
        .fetch_optional(db)
        .await?)
}

pub(crate) async fn find_by_e164(db: &Db, livemode: bool, e164: &str) -> Result<Option<InventoryRow>, AppError> {
    Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM inventory_numbers WHERE e164 = $1 AND livemode = $2"))
        .bind(e164)
        .bind(db::flag(livemode))
        .fetch_optional(db)
        .await?)
}

/// Puts a number back on sale (after a release or delete), in the caller's transaction.
pub(crate) async fn make_available(tx: &mut Tx, inventory_id: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE inventory_numbers SET available = 1 WHERE id = $1")
        .bind(inventory_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Numbers for sale in a country, ordered by E.164 (a stable order across pages).
pub async fn search_available(
    db: &Db,
    mode: Mode,
    country: CountryCode,
    number_type: Option<NumberType>,
    contains: Option<&DigitPattern>,
    page: PageRequest,
) -> Result<Page<InventoryNumber>, AppError> {
    let filter = "livemode = $1 AND available = 1 AND country = $2 \
        AND ($3 IS NULL OR number_type = $3) AND ($4 IS NULL OR e164 LIKE $4)";
    let number_type = number_type.map(|t| t.as_str().to_string());
    let pattern = contains.map(|d| format!("%{}%", d.as_str()));
    // One statement for the page and its total (see `phone_numbers::list_assigned`).
    let page_rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM inventory_numbers WHERE {filter}) AS total \
         FROM inventory_numbers WHERE {filter} ORDER BY e164 LIMIT $5 OFFSET $6"
    ))
    .bind(db::flag(mode.is_live()))
    .bind(country.as_str())
    .bind(&number_type)
    .bind(&pattern)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?;
    let total: i64 = match page_rows.first() {
        Some(row) => row.try_get("total")?,
        None if page.offset == 0 => 0,
        None => sqlx::query(&format!("SELECT COUNT(*) AS n FROM inventory_numbers WHERE {filter}"))
            .bind(db::flag(mode.is_live()))
            .bind(country.as_str())
            .bind(&number_type)
            .bind(&pattern)
            .fetch_one(db)
            .await?
            .try_get("n")?,
    };
    let rows = page_rows.iter().map(InventoryRow::from_row).collect::<Result<Vec<_>, _>>()?;
    let data = rows.iter().map(InventoryRow::to_inventory_number).collect::<Result<_, _>>()?;
    Ok(Page { data, total, limit: page.limit, offset: page.offset })
}

/// One parsed inventory row, ready to insert.
#[derive(Debug, Clone)]
pub struct NewInventoryNumber {
    pub e164: E164,
    pub country: CountryCode,
    pub number_type: NumberType,
    pub setup_cost_cents: i64,
    pub monthly_cost_cents: i64,
    pub currency: Currency,
}

impl NewInventoryNumber {
    pub fn parse(
        e164: &str,
        country: &str,
        number_type: &str,
        setup_cost_cents: &str,
        monthly_cost_cents: &str,
        currency: &str,
    ) -> Result<Self, AppError> {
        let cents = |field: &str, raw: &str| -> Result<i64, AppError> {
            let value = raw.trim().parse::<i64>().map_err(|_| {
                AppError::validation(field, format!("{field} must be a whole number of cents, got {raw:?}"))
            })?;
            Ok(parse_cents(field, value)?)
        };
        let country = CountryCode::parse("country", country)?;
        Ok(NewInventoryNumber {
            e164: E164::parse("e164", e164, country)?,
            country,
            number_type: parse_enum("type", number_type.trim())?,
            setup_cost_cents: cents("setup_cost_cents", setup_cost_cents)?,
            monthly_cost_cents: cents("monthly_cost_cents", monthly_cost_cents)?,
            currency: Currency::parse("currency", currency)?,
        })
    }
}

/// Adds numbers to a mode's inventory in one transaction. A number already in the inventory is
/// left as it is (so a re-import is harmless); returns how many were added.
pub async fn add(
    db: &Db,
    mode: Mode,
    numbers: &[NewInventoryNumber],
    mut progress: impl FnMut(usize),
) -> Result<u64, AppError> {
    let mut tx = db.begin().await?;
    let now = db::now();
    let mut added = 0;
    for (i, n) in numbers.iter().enumerate() {
        added += sqlx::query(
            "INSERT INTO inventory_numbers (id, livemode, e164, country, number_type, setup_cost_cents, \
             monthly_cost_cents, currency, available, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9) ON CONFLICT (livemode, e164) DO NOTHING",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(db::flag(mode.is_live()))
        .bind(n.e164.as_str())
        .bind(n.country.as_str())
        .bind(n.number_type.as_str())
        .bind(n.setup_cost_cents)
        .bind(n.monthly_cost_cents)
        .bind(n.currency.as_str())
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        progress(i + 1);
    }
    tx.commit().await?;
    Ok(added)
}

/// The CSV header the importer expects.
pub const CSV_HEADER: [&str; 6] = ["e164", "country", "type", "setup_cost_cents", "monthly_cost_cents", "currency"];

/// Parses an inventory CSV completely before anything is written: the first bad row is reported
/// with its line number and nothing is imported.
pub fn parse_csv(reader: impl std::io::Read) -> Result<Vec<NewInventoryNumber>, String> {
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let header = csv.headers().map_err(|e| format!("line 1: cannot read the header: {e}"))?;
    if header.iter().collect::<Vec<_>>() != CSV_HEADER {
        return Err(format!("line 1: the header must be exactly {}", CSV_HEADER.join(",")));
    }
    let mut numbers = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            format!("line {line}: {e}")
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let field = |i: usize| record.get(i).unwrap_or("");
        let n = NewInventoryNumber::parse(field(0), field(1), field(2), field(3), field(4), field(5))
            .map_err(|e| format!("line {line}: {e}"))?;
        numbers.push(n);
    }
    Ok(numbers)
}

/// The countries with numbers for sale in a mode, alphabetically.
pub async fn countries(db: &Db, mode: Mode) -> Result<Vec<String>, AppError> {
    let rows = sqlx::query("SELECT DISTINCT country FROM inventory_numbers WHERE livemode = $1 AND available = 1 ORDER BY country")
        .bind(db::flag(mode.is_live()))
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("country")?)).collect()
}
