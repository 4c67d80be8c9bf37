//! Bounded text: lengths are counted in characters, as SPEC §4 sets them.

use super::FieldErrors;

/// Longest title (e.g. a pledge or report title).
pub const TITLE_MAX: usize = 100;
/// Longest name of a person, a branch or a household head.
pub const NAME_MAX: usize = 50;
/// Longest summary, note or agreement.
pub const SUMMARY_MAX: usize = 2_000;
/// Longest description or mediation process.
pub const DESCRIPTION_MAX: usize = 5_000;
/// Longest comment.
pub const COMMENT_MAX: usize = 500;
/// Longest address.
pub const ADDRESS_MAX: usize = 200;

/// A required text field: trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, FieldErrors> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldErrors::single(
            field,
            "required",
            format!("{field} 不能为空"),
            format!("{field} must not be empty"),
        ));
    }
    bounded(field, trimmed, max)
}

/// An optional text field: trimmed; empty becomes `None`.
pub fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, FieldErrors> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded(field, text, max).map(Some),
    }
}

fn bounded(field: &str, value: &str, max: usize) -> Result<String, FieldErrors> {
    let count = value.chars().count();
    if count > max {
        return Err(FieldErrors::single(
            field,
            "too_long",
            format!("{field} 最多 {max} 个字符（现为 {count} 个）"),
            format!("{field} must be at most {max} characters (got {count})"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        let hundred_hanzi = "党".repeat(TITLE_MAX);
        assert!(required("title", &hundred_hanzi, TITLE_MAX).is_ok());
        let too_long = "党".repeat(TITLE_MAX + 1);
        let errors = required("title", &too_long, TITLE_MAX)
            .unwrap_err()
            .into_vec();
        assert_eq!(errors[0].code, "too_long");
    }

    #[test]
    fn blank_required_text_is_rejected_and_optional_blank_is_none() {
        assert!(required("name", "   ", NAME_MAX).is_err());
        assert_eq!(optional("note", Some("  "), COMMENT_MAX).unwrap(), None);
        assert_eq!(
            optional("note", Some(" 好 "), COMMENT_MAX).unwrap(),
            Some("好".into())
        );
    }
}
