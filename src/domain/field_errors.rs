//! Field-level validation errors, collected so one answer names every bad field.

use serde::Serialize;

/// One rejected field: where it is, a stable code, and a message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    #[serde(skip)]
    pub zh: String,
    #[serde(skip)]
    pub en: String,
}

/// The field errors found while parsing one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(
        field: impl Into<String>,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        let mut errors = Self::new();
        errors.add(field, code, zh, en);
        errors
    }

    pub fn add(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) {
        self.0.push(FieldError {
            field: field.into(),
            code,
            zh: zh.into(),
            en: en.into(),
        });
    }

    /// Keeps the value when parsing succeeded, records the errors otherwise.
    pub fn take<T>(&mut self, parsed: Result<T, FieldErrors>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(errors) => {
                self.0.extend(errors.0);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// Prefixes every field with `prefix` (for rows of an import or items of an array).
    pub fn nested(self, prefix: &str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|mut e| {
                    e.field = format!("{prefix}.{}", e.field);
                    e
                })
                .collect(),
        )
    }
}
