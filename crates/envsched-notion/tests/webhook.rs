//! Webhook deliveries from `../shared/fixtures/notion/webhook`, byte for byte.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use envsched_notion::webhook::{
    Delivery, RefusalThrottle, Rejected, WebhookReceiver, WebhookSink, router, signature_is_valid,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

fn dir() -> PathBuf {
    common::fixtures().join("webhook")
}

fn raw(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn signatures() -> Value {
    serde_json::from_slice(&raw("signatures.json")).unwrap()
}

fn receiver() -> WebhookReceiver {
    let token = signatures()["verification_token"].as_str().unwrap().to_string();
    WebhookReceiver::new(Some(SecretString::from(token)), "2b4e6a17-3c5d-80f1-9a2e-d41c7e8b5f03", None)
}

#[test]
fn every_validly_signed_event_triggers_a_refetch() {
    let sigs = signatures();
    let r = receiver();
    for name in [
        "page.properties_updated.compact.json",
        "page.properties_updated.json",
        "page.created.json",
        "page.deleted.json",
    ] {
        let sig = sigs["valid"][name]["x_notion_signature"].as_str().unwrap();
        match r.receive(&raw(name), Some(sig)) {
            Ok(Delivery::Refetch { kind, .. }) => assert!(kind.starts_with("page."), "{name}: {kind}"),
            // The pretty and compact files are the same event (same id): the second is a replay.
            Ok(Delivery::Ignored { reason }) if name == "page.properties_updated.json" => {
                assert!(reason.contains("already delivered"), "{reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn tampered_wrong_token_unprefixed_reserialized_and_unsigned_bodies_are_rejected() {
    let r = receiver();
    for case in signatures()["invalid"].as_array().unwrap() {
        let body = raw(case["body_file"].as_str().unwrap());
        let got = r.receive(&body, case["x_notion_signature"].as_str());
        assert_eq!(got.unwrap_err(), Rejected::BadSignature, "{}", case["name"]);
    }
}

#[test]
fn a_replayed_event_causes_at_most_one_refetch() {
    let sigs = signatures();
    let case = &sigs["replay"];
    let body = raw(case["body_file"].as_str().unwrap());
    let sig = case["x_notion_signature"].as_str();
    let r = receiver();
    assert!(matches!(r.receive(&body, sig), Ok(Delivery::Refetch { .. })));
    assert!(matches!(r.receive(&body, sig), Ok(Delivery::Ignored { .. })));
}

#[test]
fn the_verification_request_is_accepted_without_a_stored_token_and_hands_it_over() {
    let sigs = signatures();
    let fresh = WebhookReceiver::new(None, "2b4e6a17-3c5d-80f1-9a2e-d41c7e8b5f03", None);
    let sig = sigs["valid"]["verification.json"]["x_notion_signature"].as_str();
    let Ok(Delivery::Verification { token }) = fresh.receive(&raw("verification.json"), sig) else {
        panic!("not accepted")
    };
    assert_eq!(token.expose_secret(), sigs["verification_token"].as_str().unwrap());
    // Unsigned verification requests are accepted too (some deliveries omit the header).
    assert!(matches!(fresh.receive(&raw("verification.json"), None), Ok(Delivery::Verification { .. })));
    // Until the token is stored, events are refused.
    let event_sig = sigs["valid"]["page.created.json"]["x_notion_signature"].as_str();
    assert_eq!(fresh.receive(&raw("page.created.json"), event_sig).unwrap_err(), Rejected::NoToken);
}

#[test]
fn the_documented_known_answer_vector_verifies() {
    let v = &signatures()["documented_known_answer_vector"];
    let token = SecretString::from(v["verification_token"].as_str().unwrap().to_string());
    assert!(signature_is_valid(v["body"].as_str().unwrap().as_bytes(), v["x_notion_signature"].as_str(), &token));
}

#[test]
fn events_about_another_database_are_acknowledged_and_ignored() {
    let sigs = signatures();
    let token = SecretString::from(sigs["verification_token"].as_str().unwrap().to_string());
    let other = WebhookReceiver::new(Some(token), "00000000-0000-0000-0000-000000000000", None);
    let sig = sigs["valid"]["page.created.json"]["x_notion_signature"].as_str();
    assert!(matches!(other.receive(&raw("page.created.json"), sig), Ok(Delivery::Ignored { .. })));
}

#[derive(Default)]
struct Sink(Mutex<Vec<String>>);

impl WebhookSink for Sink {
    fn refetch(&self, event_id: &str, _kind: &str) {
        self.0.lock().unwrap().push(format!("refetch {event_id}"));
    }
    fn verification(&self, _token: &SecretString) {
        self.0.lock().unwrap().push("verification".into());
    }
    fn rejected(&self, why: &Rejected, suppressed: u64) {
        self.0.lock().unwrap().push(format!("rejected {why} (+{suppressed})"));
    }
}

#[tokio::test]
async fn the_route_answers_401_to_bad_signatures_and_triggers_only_on_good_ones() {
    let sink = Arc::new(Sink::default());
    let app = router(Arc::new(receiver()), sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/notion", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let sigs = signatures();
    let post = |body: Vec<u8>, sig: Option<&str>| {
        let mut req = http.post(&url).header("content-type", "application/json").body(body);
        if let Some(s) = sig {
            req = req.header("X-Notion-Signature", s);
        }
        req.send()
    };
    let bad = post(raw("page.properties_updated.tampered.json"), sigs["invalid"][0]["x_notion_signature"].as_str())
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    let good_sig = sigs["valid"]["page.properties_updated.compact.json"]["x_notion_signature"].as_str();
    assert_eq!(post(raw("page.properties_updated.compact.json"), good_sig).await.unwrap().status().as_u16(), 200);
    assert_eq!(post(raw("page.properties_updated.compact.json"), good_sig).await.unwrap().status().as_u16(), 200);
    let log = sink.0.lock().unwrap().clone();
    assert_eq!(
        log,
        [
            "rejected X-Notion-Signature is missing or does not match the body (+0)",
            "refetch 0c4e8a1f-3b5d-4f7a-9c2e-6a8b0d2f4e61"
        ]
    );
}

/// Serves `router` on 127.0.0.1 and returns the webhook URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/notion", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[test]
fn an_unsigned_or_forged_verification_body_is_refused_once_a_token_is_configured() {
    let sigs = signatures();
    let r = receiver();
    // Unsigned, with the real token's shape: refused, not handed over.
    assert_eq!(r.receive(&raw("verification.json"), None).unwrap_err(), Rejected::VerificationWhileConfigured);
    // Signed with the token it carries (anyone can do that), not with the configured one.
    let forged = br#"{"verification_token":"secret_forgedforgedforgedforgedforgedforged01"}"#;
    let forged_sig = envsched_notion::webhook::signature(
        forged,
        &SecretString::from("secret_forgedforgedforgedforgedforgedforged01"),
    );
    assert_eq!(r.receive(forged, Some(&forged_sig)).unwrap_err(), Rejected::VerificationWhileConfigured);
    // Notion repeating the handshake for the configured token: acknowledged, nothing handed over.
    let sig = sigs["valid"]["verification.json"]["x_notion_signature"].as_str();
    assert!(matches!(r.receive(&raw("verification.json"), sig), Ok(Delivery::Ignored { .. })));
}

#[tokio::test]
async fn five_hundred_forged_verification_bodies_are_answered_401_and_reported_once() {
    let sink = Arc::new(Sink::default());
    let url = serve(router(Arc::new(receiver()), sink.clone())).await;
    let http = reqwest::Client::new();
    for i in 0..500 {
        let body = format!(r#"{{"verification_token":"secret_forged{i:040}"}}"#);
        let resp = http.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401, "forged body {i}");
    }
    let log = sink.0.lock().unwrap().clone();
    assert_eq!(log.len(), 1, "one line for 500 refusals within a minute: {:?}", &log[..log.len().min(3)]);
    assert!(log[0].starts_with("rejected "), "{log:?}");
    assert!(!log[0].contains("secret_forged"), "the sender's string is never echoed: {log:?}");
}

#[test]
fn refusals_are_reported_at_most_once_a_minute_with_the_count_held_back() {
    let mut t = RefusalThrottle::new(Duration::from_secs(60));
    let t0 = Instant::now();
    assert_eq!(t.refused(t0), Some(0), "the first refusal is reported");
    for i in 1..=499 {
        assert_eq!(t.refused(t0 + Duration::from_millis(100 * i)), None, "refusal {i}");
    }
    assert_eq!(t.refused(t0 + Duration::from_secs(60)), Some(499), "a minute later, with the count");
    assert_eq!(t.refused(t0 + Duration::from_secs(61)), None);
    assert_eq!(t.refused(t0 + Duration::from_secs(600)), Some(1));
    assert_eq!(t.refused(t0 + Duration::from_secs(700)), Some(0), "a lone refusal after a quiet spell");
}

#[test]
fn a_signed_event_with_an_empty_or_missing_id_is_deduplicated_across_redeliveries() {
    let token = SecretString::from(signatures()["verification_token"].as_str().unwrap().to_string());
    let event = |id: Option<&str>, attempt: u32, timestamp: &str| {
        let mut e = serde_json::json!({
            "timestamp": timestamp, "type": "page.properties_updated", "attempt_number": attempt,
            "entity": {"id": "2b4e6a17-3c5d-8101-a4c2-e8f1b3d5a7d1", "type": "page"},
            "data": {"parent": {"id": "2b4e6a17-3c5d-80f1-9a2e-d41c7e8b5f03", "type": "database"}},
        });
        if let Some(id) = id {
            e["id"] = id.into();
        }
        let body = e.to_string().into_bytes();
        let sig = envsched_notion::webhook::signature(&body, &token);
        (body, sig)
    };
    for id in [Some(""), None] {
        let r = receiver();
        let (body, sig) = event(id, 1, "2026-11-22T00:10:03.114Z");
        assert!(matches!(r.receive(&body, Some(&sig)), Ok(Delivery::Refetch { .. })), "{id:?}");
        // Notion delivers it again (a retry carries the next attempt_number): no second fetch.
        let (body, sig) = event(id, 2, "2026-11-22T00:10:03.114Z");
        match r.receive(&body, Some(&sig)) {
            Ok(Delivery::Ignored { reason }) => assert!(reason.contains("already delivered"), "{reason}"),
            other => panic!("{id:?}: a redelivery was not recognised: {other:?}"),
        }
        // A later edit of the same row is a new event.
        let (body, sig) = event(id, 1, "2026-11-22T00:11:40.020Z");
        assert!(matches!(r.receive(&body, Some(&sig)), Ok(Delivery::Refetch { .. })), "{id:?}");
    }
}
