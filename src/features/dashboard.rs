//! `/dashboard`: the township's live web dashboard, a static page embedded in
//! the binary (no CDN, no build step) that signs in and polls `/api/v1/stats`.
//!
//! These routes are plain actix routes, outside `/api/v1` and outside the
//! OpenAPI document: they serve files, not the API.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

/// One embedded file and how it is served.
struct Asset {
    path: &'static str,
    body: &'static [u8],
    content_type: &'static str,
    cache_control: &'static str,
}

const INDEX_HTML: &[u8] = include_bytes!("../../assets/dashboard/index.html");

/// The page and the app revalidate on every load, so a new release shows at
/// once; ECharts changes only with a release, so browsers keep it a day.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/dashboard",
        body: INDEX_HTML,
        content_type: "text/html; charset=utf-8",
        cache_control: "no-cache",
    },
    Asset {
        path: "/dashboard/",
        body: INDEX_HTML,
        content_type: "text/html; charset=utf-8",
        cache_control: "no-cache",
    },
    Asset {
        path: "/dashboard/app.js",
        body: include_bytes!("../../assets/dashboard/app.js"),
        content_type: "text/javascript; charset=utf-8",
        cache_control: "no-cache",
    },
    Asset {
        path: "/dashboard/app.css",
        body: include_bytes!("../../assets/dashboard/app.css"),
        content_type: "text/css; charset=utf-8",
        cache_control: "no-cache",
    },
    Asset {
        path: "/dashboard/echarts.min.js",
        body: include_bytes!("../../assets/dashboard/vendor/echarts.min.js"),
        content_type: "text/javascript; charset=utf-8",
        cache_control: "public, max-age=86400",
    },
];

/// Scripts, styles and data come only from this server; the API is
/// same-origin. ECharts' tooltips carry inline `style` attributes, hence
/// `'unsafe-inline'` for styles (never for scripts).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    for (index, asset) in ASSETS.iter().enumerate() {
        cfg.route(
            asset.path,
            web::get().to(move |req: HttpRequest| async move { serve(&req, index) }),
        );
    }
}

/// Whether `path` is one of the dashboard's, to tell 405 from 404.
pub fn serves(path: &str) -> bool {
    ASSETS.iter().any(|a| a.path == path)
}

fn serve(req: &HttpRequest, index: usize) -> HttpResponse {
    let Some(asset) = ASSETS.get(index) else {
        return HttpResponse::NotFound().finish();
    };
    let tag = etag(index);
    let unchanged = crate::platform::http::conditional::unchanged(req, &tag);
    let mut res = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::CACHE_CONTROL, asset.cache_control))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if let Ok(value) = HeaderValue::from_str(&tag) {
        res.insert_header((header::ETAG, value));
    }
    if asset.content_type.starts_with("text/html") {
        res.insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    if unchanged {
        return res.finish();
    }
    res.content_type(asset.content_type).body(asset.body)
}

/// A tag from the file's bytes, computed once per file; weak, as the body
/// may go out compressed.
fn etag(index: usize) -> String {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("W/\"{}\"", hex::encode(&Sha256::digest(a.body)[..12])))
            .collect()
    });
    tags.get(index).cloned().unwrap_or_default()
}
