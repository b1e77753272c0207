//! The DynamoDB lease against moto's server: one copy holds it, the other stands by; the
//! keeper renews and releases it; a copy without it sends no mutating call.

mod moto_world;

use envsched_aws::AwsFleet;
use envsched_core::Outcome;
use envsched_fixtures::moto;
use moto_world::{Moto, cycle, mutating, service, world};

fn lease_settings(ttl_s: u64) -> envsched_core::LeaseSettings {
    envsched_core::LeaseSettings {
        table: "envsched-lease".into(),
        key: "stg".into(),
        ttl: std::time::Duration::from_secs(ttl_s),
    }
}

#[tokio::test]
async fn one_copy_holds_the_lease_the_other_stands_by_until_it_is_released_or_expires() {
    use envsched_aws::{DynamoLease, LeaseView};
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    moto::lease_table(&sdk, "envsched-lease").await;
    let a = DynamoLease::new(&sdk, &lease_settings(60), "copy-a");
    let b = DynamoLease::new(&sdk, &lease_settings(60), "copy-b");

    assert!(a.acquire().await.unwrap().is_held());
    match b.acquire().await.unwrap() {
        LeaseView::Standby { owner, expires_at } => {
            assert_eq!(owner, "copy-a");
            assert!(expires_at > jiff::Timestamp::now() + jiff::SignedDuration::from_secs(50), "{expires_at}");
        }
        held => panic!("two copies hold the lease: {held:?}"),
    }
    // Renewing is taking again; the other copy still stands by.
    assert!(a.acquire().await.unwrap().is_held());
    assert!(!b.acquire().await.unwrap().is_held());
    // A release by the copy that does not hold it changes nothing.
    b.release().await.unwrap();
    assert_eq!(a.peek().await.unwrap().map(|(o, _)| o), Some("copy-a".to_string()));
    a.release().await.unwrap();
    assert_eq!(a.peek().await.unwrap(), None);
    assert!(b.acquire().await.unwrap().is_held());

    // A copy that died holding it: once its lease has expired, another takes it.
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let past = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1)).as_millisecond().to_string();
    dynamo
        .put_item()
        .table_name("envsched-lease")
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("stg".into()))
        .item("owner", aws_sdk_dynamodb::types::AttributeValue::S("copy-dead".into()))
        .item("expires_at", aws_sdk_dynamodb::types::AttributeValue::N(past))
        .send()
        .await
        .unwrap();
    assert!(a.acquire().await.unwrap().is_held(), "an expired lease is free");
    assert!(!b.acquire().await.unwrap().is_held());

    // Another key is another lease.
    let other = envsched_core::LeaseSettings { key: "dev".into(), ..lease_settings(60) };
    assert!(DynamoLease::new(&sdk, &other, "copy-b").acquire().await.unwrap().is_held());
}

#[tokio::test]
async fn a_missing_table_is_an_error_naming_the_table_and_the_call() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let lease = envsched_aws::DynamoLease::new(&sdk, &lease_settings(60), "copy-a");
    let e = lease.acquire().await.unwrap_err().to_string();
    assert!(
        e.contains("\"envsched-lease\"") && e.contains("dynamodb:PutItem") && e.contains("ResourceNotFound"),
        "{e}"
    );
}

#[tokio::test]
async fn the_keeper_holds_the_lease_while_it_runs_and_releases_it_when_done() {
    use envsched_aws::{DynamoLease, Fence};
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    moto::lease_table(&sdk, "envsched-lease").await;
    // A 15 s ttl: a standby asks every 5 s.
    let a = DynamoLease::new(&sdk, &lease_settings(15), "copy-a");
    let b = DynamoLease::new(&sdk, &lease_settings(15), "copy-b");
    let (fa, fb) = (Fence::closed(), Fence::closed());
    let (va, mut ra) = tokio::sync::watch::channel(None);
    let (vb, mut rb) = tokio::sync::watch::channel(None);
    let (done_a, mut done_a_rx) = tokio::sync::watch::channel(false);
    let (done_b, mut done_b_rx) = tokio::sync::watch::channel(false);
    let keep_a = a.keep(&fa, &va, async move {
        let _ = done_a_rx.wait_for(|d| *d).await;
    });
    let keep_b = b.keep(&fb, &vb, async move {
        let _ = done_b_rx.wait_for(|d| *d).await;
    });
    let second = async {
        // B starts once A holds the lease.
        ra.wait_for(|v| matches!(v, Some(Ok(v)) if v.is_held())).await.unwrap();
        assert!(fa.check().is_ok(), "the holder may write");
        let check = async {
            rb.wait_for(|v| matches!(v, Some(Ok(v)) if !v.is_held())).await.unwrap();
            assert!(fb.check().unwrap_err().contains("does not hold"), "the other copy may not");
            // The holder stops: its keeper releases the lease, its fence closes at once, and
            // the standby takes over on its next attempt.
            done_a.send(true).unwrap();
            ra.wait_for(|v| v.is_none()).await.unwrap();
            assert!(fa.check().is_err());
            rb.wait_for(|v| matches!(v, Some(Ok(v)) if v.is_held())).await.unwrap();
            assert!(fb.check().is_ok());
            done_b.send(true).unwrap();
        };
        tokio::join!(keep_b, check);
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), async { tokio::join!(keep_a, second) })
        .await
        .expect("the standby takes over after a release");
    assert_eq!(a.peek().await.unwrap(), None, "released on the way out");
}

#[tokio::test]
async fn a_copy_without_the_lease_sends_no_mutating_call() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    world(&sdk).await;
    let fence = std::sync::Arc::new(envsched_aws::Fence::closed());
    let fleet = AwsFleet::new(&sdk).with_fence(fence.clone());
    // Nothing booked: without the fence this cycle parks app1-web and creditcard.
    let report = cycle(&fleet, vec![]).await;
    assert!(!report.applied.is_empty());
    assert!(
        report
            .applied
            .iter()
            .all(|a| matches!(&a.outcome, Outcome::Skipped(why) if why.contains("this copy does not hold the lease"))),
        "{:#?}",
        report.applied
    );
    assert_eq!(mutating(&fleet), 0, "{:?}", fleet.calls());
    assert_eq!(service(&sdk, "app1-web").await, (3, vec![]));
    // Holding it, the same cycle acts.
    fence.held(std::time::Instant::now(), std::time::Duration::from_secs(60));
    cycle(&fleet, vec![]).await;
    assert_eq!(service(&sdk, "app1-web").await.0, 0);
}
