//! The WeChat API: mini-program login (`jscode2session`, exchanging
//! `wx.login`'s code for an openid) and subscribe messages
//! (`subscribeMessage.send`, with a cached `access_token`).

use std::time::Duration;

use serde::Deserialize;

use crate::config::WechatSettings;

/// A client for the WeChat API at a configurable base URL.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    settings: WechatSettings,
    /// The app's access token and when to fetch a new one.
    token: std::sync::Arc<tokio::sync::Mutex<Option<(String, std::time::Instant)>>>,
}

/// Which subscribe message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A submission awaits the recipient's review.
    Submitted,
    /// The recipient's submission was decided.
    Reviewed,
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
        Ok(WechatClient {
            http,
            settings,
            token: Default::default(),
        })
    }

    /// The openid of the WeChat user who produced `code`.
    pub async fn openid(&self, code: &str) -> Result<String, WechatError> {
        let url = format!(
            "{}/sns/jscode2session",
            self.settings.api_base.trim_end_matches('/')
        );
        let session: Code2Session = answer(self.http.get(url).query(&[
            ("appid", self.settings.appid.as_str()),
            ("secret", self.settings.secret.as_str()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ]))
        .await?;
        match session.openid {
            Some(openid) if session.errcode == 0 && !openid.is_empty() => Ok(openid),
            _ => Err(WechatError::Rejected {
                errcode: session.errcode,
                errmsg: session.errmsg,
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
struct AccessToken {
    access_token: Option<String>,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Debug, Deserialize)]
struct Sent {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl WechatClient {
    /// Whether messages of `template` are configured.
    pub fn sends(&self, template: Template) -> bool {
        self.template_id(template).is_some()
    }

    fn template_id(&self, template: Template) -> Option<&str> {
        match template {
            Template::Submitted => self.settings.template_submitted.as_deref(),
            Template::Reviewed => self.settings.template_reviewed.as_deref(),
        }
    }

    /// Sends a subscribe message to `openid`: the template's `thing1` is the
    /// title, `thing2` the body (WeChat keeps 20 characters of a `thing`),
    /// `time3` the time. Best effort: the in-app inbox is the channel of record.
    pub async fn send(
        &self,
        template: Template,
        openid: &str,
        title: &str,
        body: &str,
        at: chrono::DateTime<chrono::Utc>,
        page: &str,
    ) -> Result<(), WechatError> {
        let Some(template_id) = self.template_id(template) else {
            return Ok(());
        };
        let token = self.access_token().await?;
        let shanghai = at + chrono::Duration::hours(8);
        let message = serde_json::json!({
            "touser": openid,
            "template_id": template_id,
            "page": page,
            "data": {
                "thing1": { "value": clip(title, 20) },
                "thing2": { "value": clip(body, 20) },
                "time3": { "value": shanghai.format("%Y-%m-%d %H:%M").to_string() },
            }
        });
        let url = format!(
            "{}/cgi-bin/message/subscribe/send",
            self.settings.api_base.trim_end_matches('/')
        );
        let sent: Sent = answer(
            self.http
                .post(url)
                .query(&[("access_token", token.as_str())])
                .json(&message),
        )
        .await?;
        match sent.errcode {
            0 => Ok(()),
            // 40001 / 42001: the token went stale early; the next send fetches another.
            40001 | 42001 => {
                *self.token.lock().await = None;
                Err(WechatError::Rejected {
                    errcode: sent.errcode,
                    errmsg: sent.errmsg,
                })
            }
            _ => Err(WechatError::Rejected {
                errcode: sent.errcode,
                errmsg: sent.errmsg,
            }),
        }
    }

    /// The app's access token, fetched when missing or within 5 minutes of expiry.
    async fn access_token(&self) -> Result<String, WechatError> {
        let mut cached = self.token.lock().await;
        if let Some((token, renew_at)) = cached.as_ref()
            && std::time::Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let url = format!(
            "{}/cgi-bin/token",
            self.settings.api_base.trim_end_matches('/')
        );
        let answer: AccessToken = answer(self.http.get(url).query(&[
            ("grant_type", "client_credential"),
            ("appid", self.settings.appid.as_str()),
            ("secret", self.settings.secret.as_str()),
        ]))
        .await?;
        let Some(token) = answer.access_token.filter(|_| answer.errcode == 0) else {
            return Err(WechatError::Rejected {
                errcode: answer.errcode,
                errmsg: answer.errmsg,
            });
        };
        let lifetime = Duration::from_secs(answer.expires_in.saturating_sub(300).max(60));
        *cached = Some((token.clone(), std::time::Instant::now() + lifetime));
        Ok(token)
    }
}

/// At most `n` characters.
fn clip(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// Sends a request to WeChat and reads its JSON answer. WeChat often answers
/// `text/plain`, so the body is parsed whatever the content type says.
async fn answer<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, WechatError> {
    let response = request
        .send()
        .await
        .map_err(|e| WechatError::Unreachable(e.to_string()))?;
    let body = response
        .bytes()
        .await
        .map_err(|e| WechatError::Unreachable(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|e| WechatError::Unreachable(format!("bad answer: {e}")))
}
