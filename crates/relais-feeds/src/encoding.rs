//! Bytes → UTF-8 text, tolerant of the usual lies about encodings.
//!
//! Feeds often declare one encoding and use another (ISO-8859-1 declared, UTF-8 written, or the
//! reverse). We decode once here, to UTF-8, and hand the parser a document whose declaration says
//! UTF-8: the XML backend then never switches decoders mid-stream (see feeds-parsing.md).

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use crate::error::{ErrorCode, FeedError};

pub(crate) struct Decoded {
    pub text: String,
    /// Set when the declared encoding was wrong and a better one was used.
    pub warning: Option<String>,
}

fn enc_err(msg: impl Into<String>) -> FeedError {
    FeedError::new(ErrorCode::Encoding, msg)
}

/// `charset` parameter of a Content-Type header value.
pub(crate) fn charset_of(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').trim_matches('\''))
    })
}

/// The `encoding` pseudo-attribute of a leading XML declaration, if any.
pub(crate) fn declared_xml_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(1024)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = find(head, b"?>")?;
    let decl = &head[..end];
    let at = find(decl, b"encoding")? + b"encoding".len();
    let rest = decl[at..]
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &rest[1..];
    let close = value.iter().position(|&b| b == quote)?;
    std::str::from_utf8(&value[..close]).ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn decode_strict(enc: &'static Encoding, bytes: &[u8]) -> Result<String, FeedError> {
    enc.decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
        .ok_or_else(|| enc_err(format!("the body is not valid {}", enc.name())))
}

/// Decode `bytes` to UTF-8. `declared` is the XML declaration's encoding or the HTTP charset.
pub(crate) fn to_utf8(bytes: &[u8], declared: Option<&str>) -> Result<Decoded, FeedError> {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        let text = decode_strict(enc, &bytes[bom..])?;
        return Ok(Decoded {
            text,
            warning: None,
        });
    }
    // UTF-16 without a BOM, recognisable from `<?` (XML 1.0 appendix F).
    if bytes.starts_with(&[b'<', 0, b'?', 0]) {
        return decode_strict(UTF_16LE, bytes).map(plain);
    }
    if bytes.starts_with(&[0, b'<', 0, b'?']) {
        return decode_strict(UTF_16BE, bytes).map(plain);
    }
    let declared_enc = declared.map(|l| (l, Encoding::for_label(l.trim().as_bytes())));
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            // Valid UTF-8 with non-ASCII bytes is, in practice, never legacy-encoded text.
            let warning = match declared_enc {
                Some((label, Some(enc)))
                    if enc != UTF_8 && enc.is_ascii_compatible() && !s.is_ascii() =>
                {
                    Some(format!(
                        "declared {label} but the body is UTF-8; read as UTF-8"
                    ))
                }
                _ => None,
            };
            Ok(Decoded {
                text: s.to_owned(),
                warning,
            })
        }
        Err(_) => match declared_enc {
            Some((_, Some(enc))) if enc != UTF_8 && enc != UTF_16LE && enc != UTF_16BE => {
                decode_strict(enc, bytes).map(plain)
            }
            Some((label, None)) => Err(enc_err(format!(
                "unknown encoding {label:?} and the body is not UTF-8"
            ))),
            _ => Ok(misdeclared_utf8(bytes)),
        },
    }
}

fn plain(text: String) -> Decoded {
    Decoded {
        text,
        warning: None,
    }
}

/// Declared (or defaulted to) UTF-8 but invalid: mostly-UTF-8 with a few bad bytes stays UTF-8
/// (lossy); otherwise it is legacy Western text, the common case in the wild.
fn misdeclared_utf8(bytes: &[u8]) -> Decoded {
    let lossy = String::from_utf8_lossy(bytes);
    let bad = lossy.chars().filter(|&c| c == '\u{FFFD}').count();
    let good = lossy
        .chars()
        .filter(|&c| !c.is_ascii() && c != '\u{FFFD}')
        .count();
    if good > bad {
        return Decoded {
            text: lossy.into_owned(),
            warning: Some(format!("{bad} invalid UTF-8 sequence(s) replaced")),
        };
    }
    let (text, _, _) = WINDOWS_1252.decode(bytes);
    Decoded {
        text: text.into_owned(),
        warning: Some("declared UTF-8 but the body is not; read as windows-1252".into()),
    }
}

/// Replace a leading XML declaration by one that says UTF-8 (the text now is).
pub(crate) fn rewrite_xml_decl(text: String) -> String {
    if !text.starts_with("<?xml") {
        return text;
    }
    let head_end = text.len().min(1024);
    let head = &text.as_bytes()[..head_end];
    match find(head, b"?>") {
        Some(end) => {
            let mut out = String::with_capacity(text.len());
            out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
            out.push_str(&text[end + 2..]);
            out
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_declared_encoding() {
        let x = br#"<?xml version="1.0" encoding='ISO-8859-1' ?><rss/>"#;
        assert_eq!(declared_xml_encoding(x), Some("ISO-8859-1"));
        assert_eq!(declared_xml_encoding(b"<rss/>"), None);
        assert_eq!(charset_of("text/xml; charset=\"utf-8\""), Some("utf-8"));
        assert_eq!(charset_of("text/xml"), None);
    }

    #[test]
    fn latin1_declared_but_utf8() {
        let d = to_utf8("café".as_bytes(), Some("ISO-8859-1")).unwrap();
        assert_eq!(d.text, "café");
        assert!(d.warning.is_some());
    }

    #[test]
    fn utf8_declared_but_latin1() {
        let d = to_utf8(b"caf\xe9 cr\xe8me", Some("UTF-8")).unwrap();
        assert_eq!(d.text, "café crème");
        assert!(d.warning.is_some());
        let d = to_utf8(b"caf\xe9", Some("iso-8859-1")).unwrap();
        assert_eq!(d.text, "café");
        assert!(d.warning.is_none());
    }

    #[test]
    fn mostly_utf8_stays_utf8() {
        let mut b = "éàü ".repeat(10).into_bytes();
        b.push(0xff);
        let d = to_utf8(&b, None).unwrap();
        assert!(d.text.starts_with("éàü"));
    }

    #[test]
    fn unknown_label_with_bad_bytes_is_an_error() {
        let e = to_utf8(b"caf\xe9", Some("x-klingon")).err().unwrap();
        assert_eq!(e.code, ErrorCode::Encoding);
        // Same label, valid UTF-8: fine.
        assert!(to_utf8(b"cafe", Some("x-klingon")).is_ok());
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let s = "<?xml version=\"1.0\"?><rss/>";
        let le: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(to_utf8(&le, None).unwrap().text, s);
        let mut bom = vec![0xfe, 0xff];
        bom.extend(s.encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(to_utf8(&bom, None).unwrap().text, s);
        // Unpaired surrogate.
        let bad = [0xff, 0xfe, 0x00, 0xd8, b'a', 0];
        assert_eq!(to_utf8(&bad, None).err().unwrap().code, ErrorCode::Encoding);
    }

    #[test]
    fn rewrites_declaration() {
        let t = rewrite_xml_decl("<?xml version='1.0' encoding='latin1'?><rss/>".into());
        assert_eq!(t, r#"<?xml version="1.0" encoding="UTF-8"?><rss/>"#);
    }
}
