//! The inventory of numbers for sale, per mode.

use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::{
    parse_cents, parse_enum, CountryCode, Currency, DigitPattern, PageRequest, E164, MAX_PRICE_CENTS,
};
use kros_domain::{InventoryNumber, Mode, NumberType, Page};
use kros_storage::{self as storage, InventoryFilter, InventoryRecord};
use uuid::Uuid;

/// `action=available`: a country's inventory for sale, of one type and holding some digits if
/// given.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailableQuery {
    pub country: CountryCode,
    pub number_type: Option<NumberType>,
    pub contains: Option<DigitPattern>,
    pub page: PageRequest,
}

impl AvailableQuery {
    pub fn parse(
        country: Option<&str>,
        number_type: Option<&str>,
        contains: Option<&str>,
        page: PageRequest,
    ) -> Result<Self, AppError> {
        let country = parse_country(country)?
            .ok_or_else(|| AppError::validation("country", "country is required when action=available"))?;
        let number_type = parse_number_type(number_type)?;
        let contains = contains.map(DigitPattern::parse).transpose()?;
        Ok(AvailableQuery { country, number_type, contains, page })
    }
}

pub(super) fn parse_country(raw: Option<&str>) -> Result<Option<CountryCode>, AppError> {
    Ok(raw.map(|c| CountryCode::parse("country", c)).transpose()?)
}

pub(super) fn parse_number_type(raw: Option<&str>) -> Result<Option<NumberType>, AppError> {
    Ok(raw.map(|t| parse_enum::<NumberType>("type", t)).transpose()?)
}

pub(super) fn to_inventory_number(row: InventoryRecord) -> InventoryNumber {
    InventoryNumber {
        id: row.id,
        e164: row.e164,
        country: row.country,
        number_type: row.number_type,
        setup_cost_cents: row.setup_cost_cents,
        monthly_cost_cents: row.monthly_cost_cents,
        currency: row.currency,
    }
}

/// Numbers for sale in a country, ordered by E.164 (a stable order across pages). Numbers
/// another organization holds are not for sale to this one; the tenant's own holds are.
pub async fn search_available(
    ctx: &Context,
    tenant: &Tenant,
    query: &AvailableQuery,
) -> Result<Page<InventoryNumber>, AppError> {
    let filter = InventoryFilter {
        livemode: tenant.livemode(),
        viewer: tenant.organization_id,
        country: query.country.as_str().to_string(),
        number_type: query.number_type,
        contains: query.contains.as_ref().map(|d| d.as_str().to_string()),
    };
    let found = ctx.store.search_inventory(&filter, query.page.into()).await?;
    let data = found.rows.into_iter().map(to_inventory_number).collect();
    Ok(Page { data, total: found.total, limit: query.page.limit, offset: query.page.offset })
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
            if value > MAX_PRICE_CENTS {
                return Err(AppError::validation(field, format!("{field} must be at most {MAX_PRICE_CENTS} cents")));
            }
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
    ctx: &Context,
    mode: Mode,
    numbers: &[NewInventoryNumber],
    mut progress: impl FnMut(usize) + Send,
) -> Result<u64, AppError> {
    let now = storage::now();
    let rows: Vec<InventoryRecord> = numbers
        .iter()
        .map(|n| InventoryRecord {
            id: Uuid::new_v4(),
            livemode: mode.is_live(),
            e164: n.e164.as_str().to_string(),
            country: n.country.as_str().to_string(),
            number_type: n.number_type,
            setup_cost_cents: n.setup_cost_cents,
            monthly_cost_cents: n.monthly_cost_cents,
            currency: n.currency.as_str().to_string(),
            available: true,
            created_at: now,
            held_by: None,
            held_until: None,
        })
        .collect();
    Ok(ctx.store.add_inventory(&rows, &mut progress).await?)
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
pub async fn countries(ctx: &Context, mode: Mode) -> Result<Vec<String>, AppError> {
    Ok(ctx.store.inventory_countries(mode.is_live()).await?)
}
