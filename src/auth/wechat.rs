//! WeChat mini-program login: exchanging `wx.login`'s code for an openid
//! through `jscode2session`.

use std::time::Duration;

use serde::Deserialize;

use crate::config::WechatSettings;

/// A client for the WeChat API at a configurable base URL.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    settings: WechatSettings,
}

/// Why a code could not be exchanged.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// WeChat said no (bad or used code); the user must log in again.
    #[error("WeChat rejected the code: {errcode} {errmsg}")]
    Rejected { errcode: i64, errmsg: String },
    /// WeChat could not be reached or answered nonsense.
    #[error("WeChat unreachable: {0}")]
    Unreachable(String),
}

#[derive(Debug, Deserialize)]
struct Code2Session {
    openid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WechatClient {
    pub fn new(settings: WechatSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(WechatClient { http, settings })
    }

    /// The openid of the WeChat user who produced `code`.
    pub async fn openid(&self, code: &str) -> Result<String, WechatError> {
        let url = format!(
            "{}/sns/jscode2session",
            self.settings.api_base.trim_end_matches('/')
        );
        let response = self
            .http
            .get(url)
            .query(&[
                ("appid", self.settings.appid.as_str()),
                ("secret", self.settings.secret.as_str()),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await
            .map_err(|e| WechatError::Unreachable(e.to_string()))?;
        // WeChat answers `text/plain` JSON, so parse the body ourselves.
        let body = response
            .bytes()
            .await
            .map_err(|e| WechatError::Unreachable(e.to_string()))?;
        let session: Code2Session = serde_json::from_slice(&body)
            .map_err(|e| WechatError::Unreachable(format!("bad answer: {e}")))?;
        match session.openid {
            Some(openid) if session.errcode == 0 && !openid.is_empty() => Ok(openid),
            _ => Err(WechatError::Rejected {
                errcode: session.errcode,
                errmsg: session.errmsg,
            }),
        }
    }
}
