//! Countries as people pick them: flag, name and code, sorted by name (the names come from
//! ISO 3166-1 on the server; the browser bundle carries none).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One country of a picker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2, as the API takes it: `GB`.
    pub code: String,
    /// `United Kingdom of Great Britain and Northern Ireland`; the code when it is not a known one.
    pub name: String,
}

impl Country {
    #[cfg(feature = "ssr")]
    pub fn from_code(code: &str) -> Self {
        let name =
            isocountry::CountryCode::for_alpha2(code).map(|c| c.name().to_string()).unwrap_or_else(|_| code.into());
        Country { code: code.to_string(), name }
    }

    /// `🇬🇧 United Kingdom of Great Britain and Northern Ireland (GB)`
    pub fn label(&self) -> String {
        if self.name == self.code {
            return self.code.clone();
        }
        match flag(&self.code) {
            Some(flag) => format!("{flag} {} ({})", self.name, self.code),
            None => format!("{} ({})", self.name, self.code),
        }
    }
}

/// The countries of these codes, sorted by name (each code once).
#[cfg(feature = "ssr")]
pub fn by_name<'a>(codes: impl IntoIterator<Item = &'a str>) -> Vec<Country> {
    let mut countries: Vec<Country> = codes.into_iter().map(Country::from_code).collect();
    countries.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.code.cmp(&b.code)));
    countries.dedup_by(|a, b| a.code == b.code);
    countries
}

/// A flag is the code's two letters written as Unicode regional indicator symbols (🇬 🇧).
fn flag(code: &str) -> Option<String> {
    const REGIONAL_A: u32 = 0x1F1E6;
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    code.bytes().map(|b| char::from_u32(REGIONAL_A + u32::from(b - b'A'))).collect()
}

/// A `<select name="country">` of these countries; `any` adds a first choice of "Any" (value "").
#[component]
pub fn CountrySelect(countries: Vec<Country>, selected: Option<String>, #[prop(optional)] any: bool) -> impl IntoView {
    view! {
        <select name="country" required=!any>
            {any.then(|| view! { <option value="">"Any"</option> })}
            {countries.into_iter().map(|c| {
                let is_selected = selected.as_deref() == Some(c.code.as_str());
                view! { <option value=c.code.clone() selected=is_selected>{c.label()}</option> }
            }).collect_view()}
        </select>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn countries_read_with_their_flag_name_and_code_sorted_by_name() {
        let sorted = by_name(["US", "NG", "GB", "NG"]);
        let codes: Vec<&str> = sorted.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["NG", "GB", "US"]);
        assert_eq!(sorted[0].label(), "🇳🇬 Nigeria (NG)");
        assert_eq!(Country::from_code("ZZ").label(), "ZZ");
        assert_eq!(flag("gb"), None);
    }
}
