//! Personal data: phone numbers and ID numbers, parsed and masked (SPEC §4).

use super::FieldErrors;

/// Parses a phone number: a mainland mobile (11 digits, starting with 1) or a
/// landline of digits with an optional area-code dash. Spaces are dropped.
pub fn parse_phone(field: &str, value: &str) -> Result<String, FieldErrors> {
    let phone: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let only_digits_and_dash = phone.chars().all(|c| c.is_ascii_digit() || c == '-');
    let mobile = phone.len() == 11 && phone.starts_with('1') && digits == 11;
    let landline = only_digits_and_dash && (7..=12).contains(&digits) && !phone.starts_with('-');
    if mobile || landline {
        Ok(phone)
    } else {
        Err(FieldErrors::single(
            field,
            "invalid_phone",
            "电话号码格式不正确",
            "not a valid phone number",
        ))
    }
}

/// Parses a resident ID number (居民身份证号): 18 characters, the last a digit or X.
pub fn parse_id_number(field: &str, value: &str) -> Result<String, FieldErrors> {
    let id = value.trim().to_ascii_uppercase();
    // Bytes, not a slice of the string: a slice at 17 would split a
    // multi-byte character, and one byte of one is never a digit anyway.
    let valid = match id.as_bytes() {
        [digits @ .., last] if digits.len() == 17 => {
            digits.iter().all(u8::is_ascii_digit) && (last.is_ascii_digit() || *last == b'X')
        }
        _ => false,
    };
    if valid {
        Ok(id)
    } else {
        Err(FieldErrors::single(
            field,
            "invalid_id_number",
            "身份证号格式不正确",
            "not a valid resident ID number",
        ))
    }
}

/// Masks the middle of a phone or ID number: `13812341234` → `138****1234`.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// Shows personal data whole to those who may see it, masked to everyone else.
pub fn reveal_or_mask(value: Option<String>, reveal: bool) -> Option<String> {
    value.map(|v| if reveal { v } else { mask(&v) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_of_18_bytes_with_other_characters_are_refused_not_a_panic() {
        assert_eq!(
            parse_id_number("id_number", " 11010519491231002x ").unwrap(),
            "11010519491231002X"
        );
        for bad in [
            "\\ê+\u{90442}\u{ea91d}ß\u{a2117}",
            "1101051949123100é",
            "11010519491231002",
            "110105194912310021X",
            "1101051949123100XX",
        ] {
            assert!(parse_id_number("id_number", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn masks_mobile_as_spec_shows() {
        assert_eq!(mask("13812341234"), "138****1234");
    }

    #[test]
    fn masks_id_number_keeping_ends() {
        assert_eq!(mask("11010519491231002X"), "110***********002X");
    }

    #[test]
    fn accepts_mobile_and_landline_rejects_letters() {
        assert_eq!(
            parse_phone("phone", "138 1234 1234").unwrap(),
            "13812341234"
        );
        assert!(parse_phone("phone", "0571-88886666").is_ok());
        assert!(parse_phone("phone", "1381234abcd").is_err());
        assert!(parse_phone("phone", "23812341234x").is_err());
    }

    #[test]
    fn id_number_needs_eighteen_characters() {
        assert!(parse_id_number("id_number", "11010519491231002x").is_ok());
        assert!(parse_id_number("id_number", "1101051949123100").is_err());
    }
}
