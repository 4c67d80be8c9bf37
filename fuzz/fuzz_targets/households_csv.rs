//! The household CSV import (`POST /api/v1/households/import`) on any bytes:
//! UTF-8 with or without a BOM, GBK/GB18030 as Excel saves it, or garbage.
//! Never a panic; every answer names a field, and the rows and errors come
//! in file order on spreadsheet lines (the header is line 1).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xianfeng::features::households::import;

fuzz_target!(|data: &[u8]| {
    match import::read(data) {
        Ok(parsed) => {
            let lines: Vec<usize> = parsed.rows.iter().map(|row| row.line).collect();
            assert!(lines.windows(2).all(|w| w[0] < w[1]), "rows out of order: {lines:?}");
            assert!(lines.iter().all(|line| *line >= 2), "a row on the header's line");
            for row in &parsed.rows {
                let filled = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
                assert!(filled(&row.fields.head_name), "a row without a head name");
                assert!(filled(&row.fields.address), "a row without an address");
            }
            for (line, errors) in parsed.errors {
                assert!(line >= 2, "an error on the header's line");
                let errors = errors.into_vec();
                assert!(!errors.is_empty(), "line {line} rejected without a reason");
                assert!(errors.iter().all(|e| !e.field.is_empty()));
            }
        }
        Err(errors) => {
            let errors = errors.into_vec();
            assert!(!errors.is_empty(), "a file rejected without a reason");
            assert!(errors.iter().all(|e| !e.field.is_empty()));
        }
    }
});
