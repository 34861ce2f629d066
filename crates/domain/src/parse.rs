//! Parsing untrusted input into domain values. Once a value has one of these types it is valid;
//! nothing checks it again.

use phonenumber::country;
use std::fmt;
use std::str::FromStr;

/// Why a value was refused, and which request field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An ISO 3166-1 alpha-2 country that has a telephone numbering plan. Stored upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode(country::Id);

impl CountryCode {
    /// Accepts `NG` or `ng`; refuses anything that is not a known region.
    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        let upper = raw.trim().to_ascii_uppercase();
        let refused =
            || Invalid::new(field, format!("{field} must be an ISO 3166-1 alpha-2 country code such as US, GB or NG"));
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(refused());
        }
        country::Id::from_str(&upper).map(CountryCode).map_err(|_| refused())
    }

    pub fn id(self) -> country::Id {
        self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Documented as the list of regions the numbering metadata knows (upper case, as stored;
/// lower case is accepted too and normalised).
impl utoipa::PartialSchema for CountryCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let letters = b'A'..=b'Z';
        let known: Vec<String> = letters
            .clone()
            .flat_map(|a| letters.clone().map(move |b| String::from_utf8(vec![a, b]).expect("ASCII")))
            .filter(|code| country::Id::from_str(code).is_ok())
            .collect();
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("ISO 3166-1 alpha-2 country code of a region with a telephone numbering plan"))
            .enum_values(Some(known))
            .examples(["NG"])
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {}

/// A phone number in E.164 form that is a valid number of its country, checked with Google's
/// libphonenumber metadata (the `phonenumber` crate), not a regex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct E164(String);

impl E164 {
    /// `raw` must be written in E.164 (`+` and digits only) and be a valid number of `country`.
    pub fn parse(field: &str, raw: &str, country: CountryCode) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let digits = raw.strip_prefix('+').unwrap_or("");
        if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                field,
                format!("{field} must be in E.164 format: + then up to 15 digits, e.g. +14155550123"),
            ));
        }
        let number = phonenumber::parse(Some(country.id()), raw)
            .map_err(|_| Invalid::new(field, format!("{field} is not a phone number")))?;
        let in_country = number.country().id() == Some(country.id());
        if !phonenumber::is_valid(&number) || !in_country {
            return Err(Invalid::new(field, format!("{raw} is not a valid phone number of {country}")));
        }
        Ok(E164(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Documented by its form; that it is a real number of its country is beyond what a schema can
/// say (the description says it).
impl utoipa::PartialSchema for E164 {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("E.164: + and up to 15 digits; it must be a valid number of the given country"))
            .pattern(Some(r"^\+[1-9][0-9]{1,14}$"))
            .examples(["+2348031234567"])
            .into()
    }
}

impl utoipa::ToSchema for E164 {}

/// Human formats of a stored E.164 number (national, international), for the dashboard (done on
/// the server, so the browser bundle stays small). Falls back to the E.164 text if the number no
/// longer parses. Kept once made: the same numbers are shown again and again, and each parse runs
/// the number's country's patterns (the 10,000 most recent cost about 2 MB).
pub fn format_for_humans(e164: &str) -> (String, String) {
    static MADE: std::sync::LazyLock<quick_cache::sync::Cache<String, (String, String)>> =
        std::sync::LazyLock::new(|| quick_cache::sync::Cache::new(10_000));
    if let Some(formats) = MADE.get(e164) {
        return formats;
    }
    let formats = format_afresh(e164);
    MADE.insert(e164.to_string(), formats.clone());
    formats
}

fn format_afresh(e164: &str) -> (String, String) {
    match phonenumber::parse(None, e164) {
        Ok(n) => (
            n.format().mode(phonenumber::Mode::National).to_string(),
            n.format().mode(phonenumber::Mode::International).to_string(),
        ),
        Err(_) => (e164.to_string(), e164.to_string()),
    }
}

/// An ISO 4217 currency code such as `USD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Invalid> {
        let upper = raw.trim().to_ascii_uppercase();
        if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(upper))
        } else {
            Err(Invalid::new(field, format!("{field} must be a three-letter ISO 4217 code such as USD")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most a number's setup or monthly price may be, in cents (10 million in any currency):
/// far above any real price, and far below where a setup plus a month could overflow.
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000;

/// A price (or a setup plus a month) in cents: never negative, never more than two prices.
pub fn parse_cents(field: &str, value: i64) -> Result<i64, Invalid> {
    if value < 0 {
        Err(Invalid::new(field, format!("{field} must not be negative")))
    } else if value > 2 * MAX_PRICE_CENTS {
        Err(Invalid::new(field, format!("{field} must be at most {}", 2 * MAX_PRICE_CENTS)))
    } else {
        Ok(value)
    }
}

/// `limit` and `offset` of a list request, within the contract's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub offset: i64,
}

impl Default for PageRequest {
    /// The first page, of the default size.
    fn default() -> Self {
        PageRequest { limit: Self::DEFAULT_LIMIT, offset: 0 }
    }
}

impl PageRequest {
    pub const DEFAULT_LIMIT: i64 = 20;
    pub const MAX_LIMIT: i64 = 100;

    /// Absent values take the defaults; present ones must be in range, never clamped.
    pub fn parse(limit: Option<&str>, offset: Option<&str>) -> Result<Self, Invalid> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if (1..=Self::MAX_LIMIT).contains(&n) => n,
                _ => return Err(Invalid::new("limit", "limit must be between 1 and 100")),
            },
        };
        let offset = match offset {
            None => 0,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => return Err(Invalid::new("offset", "offset must be a whole number >= 0")),
            },
        };
        Ok(PageRequest { limit, offset })
    }
}

/// A name people give (an endpoint, an API key, an organization), the same rule everywhere: 1 to
/// `max_chars` characters after trimming, with no control characters, no invisible formatting
/// (zero-width spaces, bidirectional overrides, byte order marks), no line or paragraph
/// separators, no private-use or unassigned code points.
pub fn parse_name(field: &str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    let name = raw.trim();
    let chars = name.chars().count();
    if !(1..=max_chars).contains(&chars) {
        return Err(Invalid::new(field, format!("{field} must be between 1 and {max_chars} characters")));
    }
    let hidden = |c: char| {
        matches!(
            c.general_category(),
            G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator | G::PrivateUse | G::Unassigned
        )
    };
    if let Some(c) = name.chars().find(|&c| hidden(c)) {
        return Err(Invalid::new(
            field,
            format!("{field} must not contain control or invisible characters (found U+{:04X})", c as u32),
        ));
    }
    Ok(name.to_string())
}

/// The name of a call-routing endpoint: see [`parse_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointName(String);

impl EndpointName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_name("name", raw, 100).map(EndpointName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A number's name in the customer's own words: 0 to 64 characters after trimming (empty: no
/// name), otherwise the rule of [`parse_name`].
pub fn parse_friendly_name(raw: &str) -> Result<String, Invalid> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    parse_name("friendlyName", raw, MAX_FRIENDLY_NAME_CHARS)
}

pub const MAX_FRIENDLY_NAME_CHARS: usize = 64;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_LEN: usize = 32;

/// One tag: 1 to 32 of `a-z`, `0-9`, `-` and `_` (no case folding: `Sales` is refused, not
/// changed, so that what is stored is what was sent).
pub fn parse_tag(field: &str, raw: &str) -> Result<String, Invalid> {
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
    if raw.is_empty() || raw.len() > MAX_TAG_LEN || !raw.bytes().all(allowed) {
        return Err(Invalid::new(
            field,
            format!("{field}: a tag is 1 to {MAX_TAG_LEN} of a-z, 0-9, - and _ (got {raw:?})"),
        ));
    }
    Ok(raw.to_string())
}

/// A number's tags: at most 10 distinct [`parse_tag`]s, kept in the order given.
pub fn parse_tags(raw: &[String]) -> Result<Vec<String>, Invalid> {
    if raw.len() > MAX_TAGS {
        return Err(Invalid::new("tags", format!("tags holds at most {MAX_TAGS} tags")));
    }
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for tag in raw {
        let tag = parse_tag("tags", tag)?;
        if tags.contains(&tag) {
            return Err(Invalid::new("tags", format!("tags lists {tag:?} twice")));
        }
        tags.push(tag);
    }
    Ok(tags)
}

/// `GET /v1/phone-numbers?q=`: digits to find in the number, or a part of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberQuery {
    /// `+` and 1 to 15 digits: the E.164 contains them.
    Digits(String),
    /// Any other text (1 to 64 characters once trimmed): the friendly name contains it, any case.
    NamePart(String),
}

impl NumberQuery {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if let Ok(digits) = DigitPattern::parse(raw) {
            return Ok(NumberQuery::Digits(digits.0));
        }
        parse_name("q", raw, MAX_FRIENDLY_NAME_CHARS).map(NumberQuery::NamePart)
    }
}

/// Digits a searched number must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitPattern(String);

impl DigitPattern {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits = raw.trim().trim_start_matches('+');
        if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("contains", "contains must be 1 to 15 digits"));
        }
        Ok(DigitPattern(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A PATCH field that may be left out but not sent as `null` (see `requests::present`): `what`
/// says what it must be instead.
pub fn not_null<'a, T>(field: &str, what: &str, value: &'a Option<Option<T>>) -> Result<Option<&'a T>, Invalid> {
    match value {
        Some(None) => Err(Invalid::new(field, format!("{field} must be {what}, not null"))),
        Some(Some(v)) => Ok(Some(v)),
        None => Ok(None),
    }
}

/// Parses a wire enum, naming the field and the allowed values when it fails.
/// An id given as text (a path, a form, a body field).
pub fn parse_uuid(field: &str, raw: &str) -> Result<uuid::Uuid, Invalid> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| Invalid::new(field, format!("{field} must be a UUID")))
}

pub fn parse_enum<T: FromStr<Err = String>>(field: &str, raw: &str) -> Result<T, Invalid> {
    raw.parse::<T>().map_err(|allowed| Invalid::new(field, format!("{field} {allowed}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NumberType;

    fn us() -> CountryCode {
        CountryCode::parse("country", "US").unwrap()
    }

    #[test]
    fn country_accepts_lower_case_and_stores_upper_case() {
        assert_eq!(CountryCode::parse("country", "ng").unwrap().as_str(), "NG");
    }

    #[test]
    fn country_refuses_unknown_and_malformed_codes() {
        for bad in ["", "X", "USA", "ZZ", "1A", "Ü1"] {
            assert!(CountryCode::parse("country", bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn e164_accepts_a_valid_number_of_its_country() {
        let n = E164::parse("e164", "+14155550123", us()).unwrap();
        assert_eq!(n.as_str(), "+14155550123");
        let ng = CountryCode::parse("country", "NG").unwrap();
        assert!(E164::parse("e164", "+2348031234567", ng).is_ok());
    }

    #[test]
    fn e164_refuses_a_number_of_another_country() {
        let gb = CountryCode::parse("country", "GB").unwrap();
        let err = E164::parse("e164", "+14155550123", gb).unwrap_err();
        assert_eq!(err.field, "e164");
    }

    #[test]
    fn e164_refuses_invalid_and_non_e164_text() {
        for bad in ["", "14155550123", "+1 415 555 0123", "+1415555012", "+999123", "+1234567890123456", "+abc"] {
            assert!(E164::parse("e164", bad, us()).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn page_request_defaults_and_bounds() {
        assert_eq!(PageRequest::parse(None, None).unwrap(), PageRequest { limit: 20, offset: 0 });
        assert_eq!(PageRequest::parse(Some("100"), Some("5")).unwrap(), PageRequest { limit: 100, offset: 5 });
        assert_eq!(PageRequest::parse(Some("0"), None).unwrap_err().field, "limit");
        assert_eq!(PageRequest::parse(Some("101"), None).unwrap_err().message, "limit must be between 1 and 100");
        assert_eq!(PageRequest::parse(Some("ten"), None).unwrap_err().field, "limit");
        assert_eq!(PageRequest::parse(None, Some("-1")).unwrap_err().field, "offset");
    }

    #[test]
    fn endpoint_name_is_1_to_100_characters() {
        assert!(EndpointName::parse("  ").is_err());
        assert!(EndpointName::parse(&"é".repeat(100)).is_ok());
        assert!(EndpointName::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn enum_error_names_field_and_values() {
        let err = parse_enum::<NumberType>("type", "landline").unwrap_err();
        assert_eq!(err.message, "type must be one of local, mobile, toll_free or national");
    }

    #[test]
    fn a_friendly_name_is_up_to_64_characters_and_empty_means_none() {
        assert_eq!(parse_friendly_name("  ").unwrap(), "");
        assert_eq!(parse_friendly_name(" Front desk ").unwrap(), "Front desk");
        assert!(parse_friendly_name(&"é".repeat(64)).is_ok());
        assert_eq!(parse_friendly_name(&"a".repeat(65)).unwrap_err().field, "friendlyName");
        assert!(parse_friendly_name("a\u{200b}b").is_err());
    }

    #[test]
    fn tags_are_few_distinct_and_lower_case() {
        let tags = |t: &[&str]| parse_tags(&t.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(tags(&["support", "eu-west_1"]).unwrap(), ["support", "eu-west_1"]);
        assert!(tags(&[]).unwrap().is_empty());
        for bad in [&["Sales"][..], &[""], &["a b"], &["x"; 2], &[&"a".repeat(33) as &str]] {
            assert_eq!(tags(bad).unwrap_err().field, "tags", "{bad:?}");
        }
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(parse_tags(&eleven).is_err());
    }

    #[test]
    fn a_number_query_is_digits_or_a_name_part() {
        assert_eq!(NumberQuery::parse("+1415").unwrap(), NumberQuery::Digits("1415".into()));
        assert_eq!(NumberQuery::parse(" Front ").unwrap(), NumberQuery::NamePart("Front".into()));
        assert_eq!(NumberQuery::parse("").unwrap_err().field, "q");
    }

    #[test]
    fn digit_pattern_is_digits_only() {
        assert_eq!(DigitPattern::parse("555").unwrap().as_str(), "555");
        assert!(DigitPattern::parse("55a").is_err());
    }
}
