//! `GET /api/v1/audit`: the township's audit log, for its admins.

use actix_web::{get, web};

use crate::core::audit::{self, AuditEntry, AuditFilter};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Query;
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit);
}

/// The audit log of the caller's township, newest first: every change (who,
/// what, before and after with personal data masked, request id) and every
/// time personal data was shown whole (`household.viewed`,
/// `user.id_number_viewed`). Township admins only.
#[utoipa::path(
    tag = "operations",
    params(AuditFilter, PageParams),
    responses(
        (status = 200, body = List<AuditEntry>),
        (status = 400, description = "malformed cursor", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a township admin", body = ErrorBody),
        (status = 422, description = "a filter of the wrong type, named in `details`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<AuditFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<AuditEntry>>, ApiError> {
    actor.may(Action::ReadAudit, None)?;
    let (rows, next_cursor) = audit::list(&state.db, &actor, &filter.0, page.0.parse()?).await?;
    Ok(web::Json(List {
        items: rows.into_iter().map(AuditEntry::from).collect(),
        next_cursor,
    }))
}
