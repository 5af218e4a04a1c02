//! Stable error codes shared by the UI, the JSON API and the CLI. Codes never change once
//! published: clients match on them. Human messages live with the translations (web crate).

use std::fmt;

macro_rules! codes {
    ($($variant:ident => $text:literal),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant),* }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text),* }
            }
        }
    };
}

codes! {
    Required => "required",
    TooShort => "too_short",
    TooLong => "too_long",
    InvalidEmail => "invalid_email",
    InvalidTimeZone => "invalid_time_zone",
    InvalidLang => "invalid_lang",
    InvalidRole => "invalid_role",
    InvalidValue => "invalid_value",
    PasswordMismatch => "password_mismatch",
    DuplicateEmail => "duplicate_email",
    AlreadyMember => "already_member",
    WrongPassword => "wrong_password",
    TotpRequired => "totp_required",
    TotpInvalid => "totp_invalid",
    InvitationExpired => "invitation_expired",
    InvitationUsed => "invitation_used",
    TokenInvalid => "token_invalid",
    TokenExpired => "token_expired",
    SetupDone => "setup_done",
    LastOwner => "last_owner",
    Archived => "archived",
    Unauthenticated => "unauthenticated",
    Forbidden => "forbidden",
    NotFound => "not_found",
    Csrf => "csrf",
    RateLimited => "rate_limited",
    Conflict => "conflict",
    BadRequest => "bad_request",
    Unavailable => "unavailable",
    DstGap => "dst_gap",
    DstAmbiguous => "dst_ambiguous",
    InPast => "in_past",
    Blocked => "blocked",
    InvalidRule => "invalid_rule",
    QuerySyntax => "query_syntax",
    ChannelRefused => "channel_refused",
    OwnPost => "own_post",
    NoSlot => "no_slot",
    Frozen => "frozen",
    LinkUsed => "link_used",
    InvalidDate => "invalid_date",
    InvalidTime => "invalid_time",
    InvalidTag => "invalid_tag",
    InvalidDays => "invalid_days",
    InvalidUrl => "invalid_url",
    UrlRefused => "url_refused",
    MediaType => "media_type",
    MediaTooLarge => "media_too_large",
    TooManyMedia => "too_many_media",
    MediaDimensions => "media_dimensions",
    MediaInUse => "media_in_use",
    NoReplies => "no_replies",
    EditedElsewhere => "edited_elsewhere",
    SmtpUnreachable => "smtp_unreachable",
    SmtpRefused => "smtp_refused",
    NewsletterNotConfigured => "newsletter_not_configured",
    TooManyRequests => "too_many_requests",
    Internal => "internal",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validation failure on one named field. `field` is the form/API field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: Code,
}

impl FieldError {
    pub fn new(field: &'static str, code: Code) -> Self {
        Self { field, code }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert!(c
                .as_str()
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '_'));
        }
    }
}
