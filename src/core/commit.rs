//! What a successful request's committed writes set off.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::core::state::AppState;

/// Acts on a successful request's writes before its caller hears of them.
/// Handlers commit before they answer, so a success means the writes are
/// committed: the notifier is woken for its outbox events now rather than at
/// the next poll, and the statistics' change versions are forgotten so the
/// next answer's `ETag` sees the change. A failed request's transaction was
/// rolled back, and nothing is done.
pub async fn after_commit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let writes = !req.method().is_safe();
    let (res, written) = crate::core::outbox::tallying(next.call(req)).await;
    let res = res?.map_into_boxed_body();
    if let Some(state) = state
        && res.status().is_success()
    {
        state.pipeline.committed(written);
        if writes {
            state.change_versions.forget_all();
        }
    }
    Ok(res)
}
