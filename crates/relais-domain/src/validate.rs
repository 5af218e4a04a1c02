//! Field validation shared by forms, the JSON API and the CLI. Each function returns the
//! normalised value or the field and the stable code of what is wrong.

use crate::{Code, FieldError, Lang, Role};

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 1024;

fn required<'a>(field: &'static str, v: &'a str) -> Result<&'a str, FieldError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, Code::Required));
    }
    Ok(v)
}

fn bounded(field: &'static str, v: &str, max: usize) -> Result<String, FieldError> {
    let v = required(field, v)?;
    if v.chars().count() > max {
        return Err(FieldError::new(field, Code::TooLong));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, Code::InvalidValue));
    }
    Ok(v.to_string())
}

/// A pragmatic address check (one `@`, a dotted domain, no spaces): the invitation email is the
/// real proof. Returns the address lower-cased so lookups are case-insensitive.
pub fn email(field: &'static str, v: &str) -> Result<String, FieldError> {
    let v = required(field, v)?;
    if v.len() > 254 {
        return Err(FieldError::new(field, Code::TooLong));
    }
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !v
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        }
        None => false,
    };
    if !ok {
        return Err(FieldError::new(field, Code::InvalidEmail));
    }
    Ok(v.to_lowercase())
}

pub fn display_name(field: &'static str, v: &str) -> Result<String, FieldError> {
    bounded(field, v, 100)
}

pub fn workspace_name(field: &'static str, v: &str) -> Result<String, FieldError> {
    bounded(field, v, 80)
}

pub fn token_name(field: &'static str, v: &str) -> Result<String, FieldError> {
    bounded(field, v, 60)
}

pub fn password(field: &'static str, v: &str) -> Result<String, FieldError> {
    if v.is_empty() {
        return Err(FieldError::new(field, Code::Required));
    }
    let n = v.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError::new(field, Code::TooShort));
    }
    if n > PASSWORD_MAX {
        return Err(FieldError::new(field, Code::TooLong));
    }
    Ok(v.to_string())
}

pub fn password_pair(
    field: &'static str,
    v: &str,
    confirm_field: &'static str,
    confirm: &str,
) -> Result<String, FieldError> {
    let p = password(field, v)?;
    if p != confirm {
        return Err(FieldError::new(confirm_field, Code::PasswordMismatch));
    }
    Ok(p)
}

/// An IANA zone name such as `Europe/Paris`; "UTC" is accepted too.
pub fn time_zone(field: &'static str, v: &str) -> Result<chrono_tz::Tz, FieldError> {
    let v = required(field, v)?;
    v.parse::<chrono_tz::Tz>()
        .map_err(|_| FieldError::new(field, Code::InvalidTimeZone))
}

pub fn lang(field: &'static str, v: &str) -> Result<Lang, FieldError> {
    let v = required(field, v)?;
    Lang::parse(v).ok_or(FieldError::new(field, Code::InvalidLang))
}

pub fn role(field: &'static str, v: &str) -> Result<Role, FieldError> {
    let v = required(field, v)?;
    Role::parse(v).ok_or(FieldError::new(field, Code::InvalidRole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("email", " Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
        for bad in [
            "", "ana", "ana@", "@x.fr", "a@b", "a b@c.fr", "a@b..fr", "a@.fr", "a@@b.fr",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
        assert_eq!(email("email", "").unwrap_err().code, Code::Required);
    }

    #[test]
    fn passwords() {
        assert_eq!(password("p", "short").unwrap_err().code, Code::TooShort);
        assert_eq!(password("p", "").unwrap_err().code, Code::Required);
        assert!(password("p", "correct horse").is_ok());
        let e = password_pair("p", "correct horse", "c", "correct house").unwrap_err();
        assert_eq!(e, FieldError::new("c", Code::PasswordMismatch));
    }

    #[test]
    fn zones_langs_roles_names() {
        assert!(time_zone("tz", "Europe/Paris").is_ok());
        assert!(time_zone("tz", "UTC").is_ok());
        assert_eq!(
            time_zone("tz", "Paris").unwrap_err().code,
            Code::InvalidTimeZone
        );
        assert_eq!(lang("l", "de").unwrap_err().code, Code::InvalidLang);
        assert_eq!(role("r", "god").unwrap_err().code, Code::InvalidRole);
        assert_eq!(
            workspace_name("n", &"x".repeat(81)).unwrap_err().code,
            Code::TooLong
        );
        assert_eq!(
            workspace_name("n", "a\u{0}b").unwrap_err().code,
            Code::InvalidValue
        );
        assert_eq!(workspace_name("n", "  Citroën  ").unwrap(), "Citroën");
    }
}
