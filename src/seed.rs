//! The demo: an organization, a user, endpoints and a realistic live and test inventory.
//! Idempotent: running it again changes nothing that exists.

use crate::domain::Actor;
use crate::domain::{parse::E164, Mode};
use crate::error::AppError;
use crate::service::inventory::{self, NewInventoryNumber};
use crate::service::{api_keys, endpoints, organizations, Context, Tenant};
use uuid::Uuid;

pub const DEMO_EMAIL: &str = "demo@kros.local";
pub const DEMO_PASSWORD: &str = "kros-demo-2026";
pub const DEMO_ORG: &str = "Demo Organization";

/// One block of numbers: a national prefix and how many numbers to take from it.
struct Block {
    country: &'static str,
    number_type: &'static str,
    /// E.164 without the last `suffix_digits` digits.
    prefix: &'static str,
    suffix_digits: u32,
    setup_cost_cents: i64,
    monthly_cost_cents: i64,
    currency: &'static str,
}

/// Live numbers: ordinary ranges. Test numbers: ranges set aside for fiction (the US 555-01XX
/// range, Ofcom's drama ranges) where the country has them.
#[rustfmt::skip] // a table: one range a line
const LIVE: &[Block] = &[
    Block { country: "US", number_type: "local", prefix: "+1415823", suffix_digits: 4, setup_cost_cents: 100, monthly_cost_cents: 115, currency: "USD" },
    Block { country: "US", number_type: "mobile", prefix: "+1646934", suffix_digits: 4, setup_cost_cents: 100, monthly_cost_cents: 150, currency: "USD" },
    Block { country: "US", number_type: "toll_free", prefix: "+1833412", suffix_digits: 4, setup_cost_cents: 200, monthly_cost_cents: 215, currency: "USD" },
    Block { country: "GB", number_type: "local", prefix: "+44207183", suffix_digits: 4, setup_cost_cents: 100, monthly_cost_cents: 125, currency: "GBP" },
    Block { country: "GB", number_type: "mobile", prefix: "+4474001", suffix_digits: 5, setup_cost_cents: 150, monthly_cost_cents: 300, currency: "GBP" },
    Block { country: "GB", number_type: "toll_free", prefix: "+44808157", suffix_digits: 4, setup_cost_cents: 300, monthly_cost_cents: 500, currency: "GBP" },
    Block { country: "GB", number_type: "national", prefix: "+44330088", suffix_digits: 4, setup_cost_cents: 150, monthly_cost_cents: 250, currency: "GBP" },
    Block { country: "NG", number_type: "local", prefix: "+234201280", suffix_digits: 4, setup_cost_cents: 500, monthly_cost_cents: 800, currency: "USD" },
    Block { country: "NG", number_type: "mobile", prefix: "+234803123", suffix_digits: 4, setup_cost_cents: 500, monthly_cost_cents: 1000, currency: "USD" },
    Block { country: "NG", number_type: "toll_free", prefix: "+23480017591", suffix_digits: 4, setup_cost_cents: 1500, monthly_cost_cents: 2500, currency: "USD" },
];

#[rustfmt::skip] // a table: one range a line
const TEST: &[Block] = &[
    Block { country: "US", number_type: "local", prefix: "+1415555", suffix_digits: 4, setup_cost_cents: 100, monthly_cost_cents: 115, currency: "USD" },
    Block { country: "US", number_type: "mobile", prefix: "+1646555", suffix_digits: 4, setup_cost_cents: 100, monthly_cost_cents: 150, currency: "USD" },
    Block { country: "US", number_type: "toll_free", prefix: "+1800555", suffix_digits: 4, setup_cost_cents: 200, monthly_cost_cents: 215, currency: "USD" },
    Block { country: "GB", number_type: "local", prefix: "+44207946", suffix_digits: 4, setup_cost_cents: 100, monthly_cost_cents: 125, currency: "GBP" },
    Block { country: "GB", number_type: "mobile", prefix: "+4474009", suffix_digits: 5, setup_cost_cents: 150, monthly_cost_cents: 300, currency: "GBP" },
    Block { country: "GB", number_type: "toll_free", prefix: "+44808158", suffix_digits: 4, setup_cost_cents: 300, monthly_cost_cents: 500, currency: "GBP" },
    Block { country: "GB", number_type: "national", prefix: "+44330099", suffix_digits: 4, setup_cost_cents: 150, monthly_cost_cents: 250, currency: "GBP" },
    Block { country: "NG", number_type: "local", prefix: "+234201999", suffix_digits: 4, setup_cost_cents: 500, monthly_cost_cents: 800, currency: "USD" },
    Block { country: "NG", number_type: "mobile", prefix: "+234803999", suffix_digits: 4, setup_cost_cents: 500, monthly_cost_cents: 1000, currency: "USD" },
    Block { country: "NG", number_type: "toll_free", prefix: "+23480017592", suffix_digits: 4, setup_cost_cents: 1500, monthly_cost_cents: 2500, currency: "USD" },
];

/// `per_block` valid numbers from each block (numbers that do not validate are skipped).
pub fn demo_inventory(mode: Mode, per_block: usize) -> Vec<NewInventoryNumber> {
    let blocks = if mode.is_live() { LIVE } else { TEST };
    let mut numbers = Vec::new();
    for b in blocks {
        // Spread the picks over the block so the numbers do not all look alike.
        let span = 10u64.pow(b.suffix_digits);
        let step = (span / (per_block as u64 * 3).max(1)).max(1);
        let mut taken = 0;
        let mut suffix = 100 % span;
        while taken < per_block && suffix < span {
            let e164 = format!("{}{:0width$}", b.prefix, suffix, width = b.suffix_digits as usize);
            let cents = |c: i64| c.to_string();
            if let Ok(n) = NewInventoryNumber::parse(
                &e164,
                b.country,
                b.number_type,
                &cents(b.setup_cost_cents),
                &cents(b.monthly_cost_cents),
                b.currency,
            ) {
                numbers.push(n);
                taken += 1;
            }
            suffix += step;
        }
    }
    numbers
}

/// What `seed-demo` did, to print.
pub struct DemoSummary {
    pub organization_id: Uuid,
    pub user_email: String,
    pub user_password: &'static str,
    pub inventory_added: u64,
    /// The demo test-mode key, when it was just created (otherwise from the key file).
    pub test_api_key: Option<String>,
}

/// Creates (once) the demo organization, user, endpoints and inventory. If `key_file` is given,
/// the demo test-mode key is kept there, and a new one is made only if that file's key no longer
/// works.
pub async fn seed_demo(ctx: &Context, key_file: Option<&std::path::Path>) -> Result<DemoSummary, AppError> {
    let organization_id = match organizations::verify_login(ctx, DEMO_EMAIL, DEMO_PASSWORD).await? {
        Some(user_id) => organizations::organizations_of(ctx, user_id)
            .await?
            .first()
            .map(|o| o.id)
            .ok_or_else(|| AppError::internal("the demo user has no organization"))?,
        None => {
            let org = organizations::create_organization(ctx, DEMO_ORG).await?;
            organizations::create_user(ctx, DEMO_EMAIL, DEMO_PASSWORD, org).await?;
            org
        }
    };
    for mode in [Mode::Live, Mode::Test] {
        let tenant = Tenant { organization_id, mode, actor: Actor::Operator };
        let page = crate::domain::parse::PageRequest { limit: 1, offset: 0 };
        if endpoints::list(ctx, &tenant, page).await?.total == 0 {
            // No targets: the demo numbers ring the devices registered with their credentials
            // (`make sip` says how to register one).
            for name in ["Main SIP trunk", "Support call center"] {
                let body = crate::domain::CreateEndpointBody { name: name.to_string(), ..Default::default() };
                endpoints::create(ctx, &tenant, &body).await?;
            }
        }
    }
    let mut inventory_added = 0;
    for mode in [Mode::Live, Mode::Test] {
        inventory_added += inventory::add(ctx, mode, &demo_inventory(mode, 12), |_| {}).await?;
    }
    let existing_key = match key_file {
        Some(path) => std::fs::read_to_string(path).ok().map(|k| k.trim().to_string()),
        None => None,
    };
    let key_works = match &existing_key {
        Some(key) => api_keys::authenticate(ctx, key).await.is_ok_and(|t| t.organization_id == organization_id),
        None => false,
    };
    let test_api_key = if key_works {
        existing_key
    } else {
        let key = api_keys::create(ctx, organization_id, Mode::Test, "Demo test key").await?;
        if let Some(path) = key_file {
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            std::fs::write(path, &key.key)
                .map_err(|e| AppError::config(format!("cannot write {}: {e}", path.display())))?;
        }
        Some(key.key)
    };
    Ok(DemoSummary {
        organization_id,
        user_email: DEMO_EMAIL.to_string(),
        user_password: DEMO_PASSWORD,
        inventory_added,
        test_api_key,
    })
}

/// Checks a number is valid, for tests of the demo data.
pub fn is_valid(e164: &str, country: &str) -> bool {
    crate::domain::parse::CountryCode::parse("country", country).and_then(|c| E164::parse("e164", e164, c)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn demo_inventory_is_valid_and_covers_every_type_and_three_countries() {
        for mode in [Mode::Live, Mode::Test] {
            let numbers = demo_inventory(mode, 12);
            let types: HashSet<_> = numbers.iter().map(|n| n.number_type).collect();
            let countries: HashSet<_> = numbers.iter().map(|n| n.country.as_str().to_string()).collect();
            assert_eq!(types.len(), crate::domain::NumberType::ALL.len(), "{mode}: every type");
            for c in ["NG", "US", "GB"] {
                assert!(countries.contains(c), "{mode}: {c}");
            }
            for b in if mode.is_live() { LIVE } else { TEST } {
                let n = numbers.iter().filter(|n| n.e164.as_str().starts_with(b.prefix)).count();
                assert_eq!(n, 12, "{mode}: block {} yields 12 valid numbers", b.prefix);
            }
        }
    }
}
