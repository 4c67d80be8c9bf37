//! Bounded text: lengths are counted in characters, as SPEC §4 sets them;
//! text must show something (not only blanks or invisible characters) and
//! hold no NUL.

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
    if value.contains('\0') {
        return Err(FieldErrors::single(
            field,
            "invalid_character",
            format!("{field} 不能包含空字符（NUL）"),
            format!("{field} must not contain the NUL character"),
        ));
    }
    if value.chars().all(is_invisible) {
        return Err(FieldErrors::single(
            field,
            "invisible",
            format!("{field} 只含不可见字符"),
            format!("{field} has only invisible characters"),
        ));
    }
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

/// Characters that show nothing on their own: blanks (which `trim` already
/// takes off the ends), controls, and format characters such as zero-width
/// spaces and joiners, the byte order mark, bidirectional marks, fillers and
/// variation selectors. A name made only of them looks empty in every list,
/// and lets one person pass for another.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
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

    #[test]
    fn text_of_invisible_characters_only_is_refused() {
        for invisible in [
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            "\u{200E}\u{202E}\u{2066}",
            "\u{3164}",
            "\u{2060}\u{FE0F}",
        ] {
            let err = required("name", invisible, NAME_MAX)
                .unwrap_err()
                .into_vec();
            assert_eq!(err[0].code, "invisible", "{invisible:?}");
            assert!(
                optional("name", Some(invisible), NAME_MAX).is_err(),
                "{invisible:?}"
            );
        }
        let nbsp = required("name", "\u{00A0}\u{3000}", NAME_MAX)
            .unwrap_err()
            .into_vec();
        assert_eq!(nbsp[0].code, "required");
        assert_eq!(
            required("name", "张\u{200B}三", NAME_MAX).unwrap(),
            "张\u{200B}三"
        );
        assert_eq!(
            required("name", "👨\u{200D}👩", NAME_MAX).unwrap(),
            "👨\u{200D}👩"
        );
    }

    #[test]
    fn a_nul_is_refused() {
        let err = required("summary", "a\0b", SUMMARY_MAX)
            .unwrap_err()
            .into_vec();
        assert_eq!(err[0].code, "invalid_character");
    }
}
