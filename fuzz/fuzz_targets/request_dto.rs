//! Request bodies as the API reads them: the JSON extractor's parse
//! (`xianfeng::platform::http::extract::parse`) into each submission's request type,
//! then its validation. The first byte picks the type, the rest is the body.
//! A body is accepted, or refused as 400 (not JSON) or 422 naming the field;
//! never a panic and never another error.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use xianfeng::domain::FieldErrors;
use xianfeng::platform::error::ApiError;
use xianfeng::platform::http::extract::parse;
use xianfeng::features::{
    branches, households, mediation, pledges, rectifications, spot_checks, users, visits,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 8, 0, 0)
        .single()
        .unwrap_or_default();
    match selector % 14 {
        0 => checked(body, |r: visits::dto::NewVisitRequest| r.parse(now)),
        1 => checked(body, |r: mediation::dto::NewReportRequest| r.parse(now)),
        2 => checked(body, |r: mediation::dto::NewFollowUpRequest| r.parse(now)),
        3 => checked(body, |r: households::dto::NewHouseholdRequest| r.parse()),
        4 => checked(body, |r: households::dto::HouseholdPatch| r.parse()),
        5 => checked(body, |r: users::dto::NewUserRequest| r.parse()),
        6 => checked(body, |r: users::dto::UserPatch| r.parse()),
        7 => checked(body, |r: branches::dto::NewBranchRequest| r.parse()),
        8 => checked(body, |r: rectifications::dto::NewRectificationRequest| r.parse(now)),
        9 => checked(body, |r: rectifications::dto::ReportRequest| r.parse()),
        10 => checked(body, |r: spot_checks::dto::NewSpotCheckRequest| r.parse()),
        11 => checked(body, |r: spot_checks::dto::VerificationRequest| r.parse()),
        12 => checked(body, |r: pledges::dto::ProgressRequest| r.parse()),
        _ => checked(body, |r: pledges::dto::NewPledgeRequest| {
            pledges::dto::PledgeContent::parse(
                r.year,
                &r.title,
                &r.content,
                r.targets,
                r.period_start,
                r.period_end,
            )
        }),
    }
});

/// Reads `body` as `T` and validates it; any refusal must name its fields.
fn checked<T, U>(body: &[u8], validate: impl FnOnce(T) -> Result<U, FieldErrors>)
where
    T: serde::de::DeserializeOwned,
{
    match parse::<T>(body) {
        Ok(request) => {
            if let Err(errors) = validate(request) {
                named(errors.into_vec());
            }
        }
        Err(ApiError::BadRequest(_)) => {}
        Err(ApiError::Validation(errors)) => named(errors),
        Err(other) => panic!("a request body was refused as {other:?}, not 400 or 422"),
    }
}

fn named(errors: Vec<xianfeng::domain::FieldError>) {
    assert!(!errors.is_empty(), "refused without a reason");
    assert!(errors.iter().all(|e| !e.field.is_empty() && !e.code.is_empty()));
}
