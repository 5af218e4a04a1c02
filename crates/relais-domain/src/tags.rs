//! Tags of a post: a short free-text list ("launch, spring sale") to filter the calendar by.
//! Stored normalised (trimmed, lower case, no leading `#`, single spaces) so that a filter
//! matches however the tag was typed.

use crate::{Code, FieldError};

pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 40;

/// One tag as stored, or None when nothing is left after trimming. Quotes, backslashes, commas
/// and control characters are refused (`Err`): they would make a tag ambiguous in a list.
pub fn normalize(tag: &str) -> Result<Option<String>, FieldError> {
    let t = tag.trim().trim_start_matches('#');
    let t = t
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > MAX_TAG_CHARS
        || t.chars()
            .any(|c| c.is_control() || matches!(c, '"' | '\\' | ',' | '%'))
    {
        return Err(FieldError::new("tags", Code::InvalidTag));
    }
    Ok(Some(t))
}

/// A comma-separated list as typed ("Launch, #spring  sale, launch") → unique tags in the
/// order given (`["launch", "spring sale"]`).
pub fn parse(input: &str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for part in input.split(',') {
        if let Some(t) = normalize(part)? {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    if out.len() > MAX_TAGS {
        return Err(FieldError::new("tags", Code::InvalidTag));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_and_dedupes() {
        assert_eq!(
            parse(" Launch, #Spring   Sale,launch ,, ").unwrap(),
            vec!["launch".to_string(), "spring sale".to_string()]
        );
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert_eq!(parse("Été").unwrap(), vec!["été".to_string()]);
    }

    #[test]
    fn refuses_what_cannot_be_matched_exactly() {
        for bad in ["a\"b", "a\\b", "50%", &"x".repeat(41)] {
            assert_eq!(parse(bad).unwrap_err().code, Code::InvalidTag, "{bad}");
        }
        let many = (0..11)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(parse(&many).is_err());
    }
}
