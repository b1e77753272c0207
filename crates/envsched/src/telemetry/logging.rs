//! The logger and the metrics recorder.

use std::io::Write;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (Datadog).
    Json,
    /// Human-readable lines.
    Text,
}

/// Installs the logger and the metrics recorder. Returns the handle `/metrics` renders.
pub fn init(format: LogFormat) -> anyhow::Result<PrometheusHandle> {
    let filter =
        tracing_subscriber::filter::Targets::new().with_target("envsched", Level::INFO).with_default(Level::WARN);
    let registry = tracing_subscriber::registry();
    let installed = match format {
        LogFormat::Json => registry.with(JsonLines::from_env().with_filter(filter)).try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_target(false).with_writer(std::io::stderr).with_filter(filter))
            .try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    PrometheusBuilder::new()
        .set_buckets(&[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))
}

/// The JSON log layer: every event, flat, one line on stdout.
struct JsonLines {
    tags: Map<String, Value>,
}

impl JsonLines {
    fn from_env() -> Self {
        let mut tags = Map::new();
        for (var, key) in [("DD_SERVICE", "dd.service"), ("DD_ENV", "dd.env"), ("DD_VERSION", "dd.version")] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                tags.insert(key.into(), Value::String(v));
            }
        }
        JsonLines { tags }
    }
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::String(value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

impl<S: Subscriber> Layer<S> for JsonLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(jiff::Timestamp::now().to_string()));
        line.insert("status".into(), Value::String(event.metadata().level().as_str().to_ascii_lowercase()));
        line.insert("message".into(), fields.0.remove("message").unwrap_or(Value::String(String::new())));
        line.insert("logger.name".into(), Value::String(event.metadata().target().into()));
        line.extend(self.tags.clone());
        line.extend(fields.0);
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // One write per line, so lines from concurrent tasks never interleave.
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}
