//! How pages show values that are stored for machines: times, user agents, phone numbers,
//! role names.

use chrono::{DateTime, FixedOffset, Utc};

use crate::i18n::Tr;

/// China Standard Time. People read times on the clock on their wall; China has one time zone
/// and no daylight saving, so a fixed offset is exact.
const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// `2026-03-01 14:05`, Beijing time.
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&CHINA)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `2026-03-01`, Beijing time.
pub fn local_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&CHINA).format("%Y-%m-%d").to_string()
}

/// A user agent as a person recognises it, e.g. `WeChat · Android`; the raw string when
/// nothing in it is known, cut to 40 characters.
pub fn short_user_agent(ua: &str) -> String {
    const BROWSERS: [(&str, &str); 9] = [
        ("MicroMessenger", "WeChat"),
        ("DingTalk", "DingTalk"),
        ("QQBrowser", "QQ Browser"),
        ("UCBrowser", "UC Browser"),
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("HarmonyOS", "HarmonyOS"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let find = |list: &[(&str, &'static str)]| {
        list.iter()
            .find(|(needle, _)| ua.contains(needle))
            .map(|(_, name)| *name)
    };
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(browser), Some(system)) => format!("{browser} · {system}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => ua.chars().take(40).collect(),
    }
}

/// A phone number with its middle hidden, as Chinese services print them: `138****0001`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// The text for `key`, or `raw` when the catalogue has no such key (a value from the roster or
/// the log we have no translation for).
pub fn translated_or(tr: Tr<'_>, key: &str, raw: &str) -> String {
    let text = tr.t(key);
    if text == key {
        raw.to_owned()
    } else {
        text.to_owned()
    }
}

/// A roster role (`teacher`, `districtAdministrator` …) in the reader's language.
pub fn role_name(tr: Tr<'_>, role: &str) -> String {
    translated_or(tr, &format!("auth.role.{role}"), role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_on_beijing_clocks() {
        let at = DateTime::parse_from_rfc3339("2026-02-28T17:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(local_time(at), "2026-03-01 01:30");
        assert_eq!(local_date(at), "2026-03-01");
    }

    #[test]
    fn user_agents_are_named_by_browser_and_system() {
        let wechat = "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 Chrome/116.0 \
                      Mobile Safari/537.36 MicroMessenger/8.0.47";
        assert_eq!(short_user_agent(wechat), "WeChat · Android");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                      Version/17.4 Mobile/15E148 Safari/604.1";
        assert_eq!(short_user_agent(iphone), "Safari · iPhone");
        assert_eq!(short_user_agent("reqwest"), "reqwest");
    }

    #[test]
    fn phones_keep_their_ends() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("12345"), "*****");
    }
}
