//! The WeChat API: mini-program login (`jscode2session`, exchanging
//! `wx.login`'s code for an openid) and subscribe messages
//! (`subscribeMessage.send`, with a cached `access_token`).

use std::time::Duration;

use serde::Deserialize;

use crate::platform::config::WechatSettings;

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

    /// The configured template id of `template`, if any.
    pub fn template_id(&self, template: Template) -> Option<&str> {
        match template {
            Template::Submitted => self.settings.template_submitted.as_deref(),
            Template::Reviewed => self.settings.template_reviewed.as_deref(),
        }
    }

    /// Sends a subscribe message to `openid`: the template's `thing1` is the
    /// title, `thing2` the body (WeChat keeps 20 characters of a `thing`),
    /// `time3` the time. Best effort: the in-app inbox is the channel of record.
    ///
    /// WeChat's answers are handled by meaning: a stale token (40001, 42001)
    /// is refreshed once and the message sent again; an unreachable WeChat, a
    /// 5xx or "system busy" (-1) is retried after 200 ms and 800 ms; anything
    /// else — the user refused or spent their consent (43101), a bad
    /// template — is final.
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
        let mut refreshed = false;
        let mut waits = SEND_BACKOFF.iter();
        loop {
            let outcome = match self.access_token().await {
                Ok(token) => self.post_message(&token, &message).await,
                Err(err) => Err(err),
            };
            match outcome {
                Ok(0) => return Ok(()),
                Ok(40001 | 42001) if !refreshed => {
                    refreshed = true;
                    *self.token.lock().await = None;
                }
                Ok(-1) => match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => return Err(rejected(-1, "system busy")),
                },
                Ok(errcode) => {
                    if matches!(errcode, 40001 | 42001) {
                        *self.token.lock().await = None;
                    }
                    return Err(rejected(errcode, "subscribe message refused"));
                }
                Err(WechatError::Unreachable(reason)) => match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => return Err(WechatError::Unreachable(reason)),
                },
                Err(err) => return Err(err),
            }
        }
    }

    /// Posts one subscribe message; WeChat's `errcode` (0 when sent).
    async fn post_message(
        &self,
        token: &str,
        message: &serde_json::Value,
    ) -> Result<i64, WechatError> {
        let url = format!(
            "{}/cgi-bin/message/subscribe/send",
            self.settings.api_base.trim_end_matches('/')
        );
        let sent: Sent = answer(
            self.http
                .post(url)
                .query(&[("access_token", token)])
                .json(message),
        )
        .await?;
        if sent.errcode != 0 {
            tracing::debug!(errcode = sent.errcode, errmsg = %sent.errmsg, "subscribe message refused");
        }
        Ok(sent.errcode)
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

/// Waits before each retry of a send that did not reach WeChat.
const SEND_BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(800)];

fn rejected(errcode: i64, errmsg: &str) -> WechatError {
    WechatError::Rejected {
        errcode,
        errmsg: errmsg.to_owned(),
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
