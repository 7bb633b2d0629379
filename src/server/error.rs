//! Errors of HTTP handlers as JSON `{"error": "..."}` responses, and the JSON
//! body extractor that turns malformed or oversized bodies into such errors.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

/// `Retry-After` when storage is failing.
pub const STORAGE_RETRY_SECS: u64 = 30;

/// A failed request: status, a message for the client, optional extra JSON
/// fields and an optional `Retry-After`.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<u64>,
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AppError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AppError {
            status,
            message: message.into(),
            retry_after: None,
            extra: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// 503: the storage cannot take writes now (disk full, read-only, I/O
    /// error). Nothing was recorded; the client should try again later.
    pub fn storage_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "服务暂时无法保存咨询记录，请稍后再试；紧急情况请拨打 12348 公共法律服务热线",
        )
        .retry_after(STORAGE_RETRY_SECS)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "服务内部错误，请稍后再试",
        )
    }

    /// Add `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Add an extra field to the JSON body.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_string(), value);
        self
    }
}

impl From<crate::Error> for AppError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::NotFound(m) => AppError::not_found(format!("未找到：{m}")),
            crate::Error::InvalidInput(m) => AppError::bad_request(m),
            other if crate::store::unavailable(&other) => {
                tracing::error!(error = %other, "storage unavailable");
                AppError::storage_unavailable()
            }
            other => {
                tracing::error!(error = %other, "request failed");
                AppError::internal()
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut body = self.extra.unwrap_or_default();
        body.insert("error".into(), serde_json::Value::String(self.message));
        let mut resp = (self.status, Json(serde_json::Value::Object(body))).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Like [`axum::Json`], but a bad body is an [`AppError`] with a message:
/// 400 for malformed JSON or wrong fields, 413 for an oversized body, 415
/// for a missing `Content-Type: application/json`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> AppError {
    match &rej {
        JsonRejection::JsonDataError(_) => {
            AppError::bad_request(format!("请求字段不正确：{}", rej.body_text()))
        }
        JsonRejection::JsonSyntaxError(_) => {
            AppError::bad_request(format!("JSON 格式错误：{}", rej.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "请求须为 JSON（Content-Type: application/json）",
        ),
        _ if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::too_large("请求体过大"),
        _ => AppError::new(rej.status(), rej.body_text()),
    }
}
