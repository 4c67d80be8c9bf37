//! `/api/v1/uploads`.

pub fn configure(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {}
