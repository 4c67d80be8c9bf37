//! Conditional GETs: whether a request's `If-None-Match` names the answer's
//! current tag, so it may be answered 304 Not Modified.

use actix_web::HttpRequest;
use actix_web::http::header;

/// Whether `If-None-Match` names `tag`, or is `*` (weak comparison, as for GET).
pub fn unchanged(req: &HttpRequest, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn weak_and_strong_forms_of_a_tag_match_and_others_do_not() {
        let tag = "W/\"abc\"";
        let ask = |value: &str| {
            TestRequest::default()
                .insert_header((header::IF_NONE_MATCH, value))
                .to_http_request()
        };
        assert!(unchanged(&ask("W/\"abc\""), tag));
        assert!(unchanged(&ask("\"abc\""), tag));
        assert!(unchanged(&ask("\"x\", W/\"abc\""), tag));
        assert!(unchanged(&ask("*"), tag));
        assert!(!unchanged(&ask("\"abd\""), tag));
        assert!(!unchanged(&TestRequest::default().to_http_request(), tag));
    }
}
