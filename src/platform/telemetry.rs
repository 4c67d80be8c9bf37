//! Logs through `tracing`, filtered by `RUST_LOG`: readable lines by default,
//! one JSON object per line with `LOG_FORMAT=json` (for log collectors).

use tracing_subscriber::EnvFilter;

use crate::platform::config::LogFormat;

/// Installs the global subscriber (once; later calls are ignored, as in tests).
pub fn init(default_filter: &str, format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
