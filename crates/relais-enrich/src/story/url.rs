//! URL canonicalisation for story grouping: two shares of one article must give one key.

/// Query parameters that only track the click (dropped).
const TRACKING: [&str; 16] = [
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
    "yclid", "_ga", "_gl", "ref_src", "twclid", "si", "cmpid",
];

/// Canonical form of an http(s) URL: no scheme, host lower case without `www.`, userinfo or
/// default port, no fragment, no trailing slash, tracking parameters (`utm_*`, `fbclid`,
/// `gclid`…) removed and the others sorted. `None` when `url` is not an http(s) or `www.` URL.
///
/// ```
/// use relais_enrich::canonical_url;
/// assert_eq!(
///     canonical_url("HTTPS://www.Example.com:443/News/a/?utm_source=x&id=2&fbclid=y#top").as_deref(),
///     Some("example.com/News/a?id=2")
/// );
/// ```
pub fn canonical_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower_prefix = |p: &str| url.len() >= p.len() && url[..p.len()].eq_ignore_ascii_case(p);
    let rest = if lower_prefix("https://") {
        &url[8..]
    } else if lower_prefix("http://") {
        &url[7..]
    } else if lower_prefix("www.") {
        url
    } else {
        return None;
    };
    let rest = rest.split('#').next().unwrap_or("");
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(host_end);
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host
        .strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    if host.is_empty() {
        return None;
    }
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let path = path.trim_end_matches('/');
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or("");
            let utm = key.len() >= 4 && key[..4].eq_ignore_ascii_case("utm_");
            !p.is_empty() && !utm && !TRACKING.iter().any(|t| key.eq_ignore_ascii_case(t))
        })
        .collect();
    params.sort_unstable();
    let mut out = host;
    out.push_str(path);
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    Some(out)
}

/// Whether a canonical URL points below a site's root (a home page shared by unrelated posts
/// says nothing about the story).
pub(crate) fn is_specific(canonical: &str) -> bool {
    canonical.contains(['/', '?'])
}

/// Trim punctuation that ends a sentence after a URL written in text ("see https://x.y/a).").
pub(crate) fn trim_in_text(url: &str) -> &str {
    url.trim_end_matches([
        '.', ',', ';', ':', '!', '?', ')', ']', '"', '\'', '»', '>', '…',
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_article_same_key() {
        let want = Some("lemonde.fr/eco/article/2024/x.html".to_string());
        for u in [
            "https://www.lemonde.fr/eco/article/2024/x.html",
            "http://lemonde.fr/eco/article/2024/x.html/",
            "https://LEMONDE.FR/eco/article/2024/x.html?utm_source=tw&utm_medium=social",
            "https://www.lemonde.fr/eco/article/2024/x.html#comments",
            "https://user@www.lemonde.fr:443/eco/article/2024/x.html?fbclid=abc",
            "www.lemonde.fr/eco/article/2024/x.html?gclid=1",
        ] {
            assert_eq!(canonical_url(u), want, "{u}");
        }
    }

    #[test]
    fn meaningful_parts_kept() {
        assert_eq!(
            canonical_url("https://ex.com/watch?v=abc&si=track").as_deref(),
            Some("ex.com/watch?v=abc")
        );
        assert_eq!(
            canonical_url("https://ex.com/p?b=2&a=1").as_deref(),
            Some("ex.com/p?a=1&b=2")
        );
        assert_eq!(
            canonical_url("https://ex.com/A").as_deref(),
            Some("ex.com/A")
        );
        assert_eq!(canonical_url("ftp://ex.com/a"), None);
        assert_eq!(canonical_url("ex.com/a"), None);
        assert_eq!(canonical_url("https:///a"), None);
        assert!(!is_specific("ex.com"));
        assert!(is_specific("ex.com/a"));
        assert_eq!(trim_in_text("https://x.y/a)."), "https://x.y/a");
    }
}
