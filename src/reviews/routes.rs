//! `/api/v1/reviews`.

pub fn configure(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {}
