//! Every injected fault leads to the documented retry or typed error, for both clients.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agentscale_core::model::Model;
use agentscale_models::mock::{Fault, MockServer};
use agentscale_models::{Ledger, Retry};

use crate::common::{ask, client, fast_retry, providers, stack};

/// (fault, error kind without retry, retried?)
fn table() -> Vec<(Fault, &'static str, bool)> {
    vec![
        (
            Fault::RateLimited { retry_after: None },
            "rate_limited",
            true,
        ),
        (Fault::ServerError { status: 500 }, "server_error", true),
        (Fault::ServerError { status: 503 }, "server_error", true),
        (Fault::ServerError { status: 529 }, "server_error", true),
        (
            Fault::Unavailable {
                retry_after: "0".into(),
            },
            "server_error",
            true,
        ),
        (Fault::DroppedConnection, "timeout", true),
        (Fault::MalformedJson, "malformed_response", true),
        (Fault::TruncatedBody, "malformed_response", true),
        (Fault::ContextTooLong, "context_too_long", false),
        (Fault::Unauthorized, "authentication", false),
        (Fault::BadRequest, "bad_request", false),
        (Fault::NotFound, "bad_request", false),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_gives_its_typed_error() {
    for (fault, kind, _) in table() {
        let server = MockServer::start().await.unwrap();
        for (provider, base) in providers(&server) {
            server.clear_faults();
            let n = server.request_count();
            server.fail_at(n, fault.clone());
            let c = client(provider, &base, "m", "k", Duration::from_secs(10));
            let e = c.complete(&ask("x")).await.unwrap_err();
            assert_eq!(e.kind(), kind, "{provider:?} {fault:?}: {e}");
            if fault == Fault::TruncatedBody {
                assert!(e.to_string().contains("truncated"), "{e}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_faults_are_retried_and_others_are_not() {
    for (fault, kind, retried) in table() {
        let server = MockServer::start().await.unwrap();
        for (provider, base) in providers(&server) {
            server.clear_faults();
            let n = server.request_count();
            server.fail_at(n, fault.clone());
            let m = Retry::new(
                client(provider, &base, "m", "k", Duration::from_secs(10)),
                fast_retry(3),
            );
            let out = m.complete(&ask("x")).await;
            let used = server.request_count() - n;
            if retried {
                let r = out.unwrap_or_else(|e| panic!("{provider:?} {fault:?}: {e}"));
                assert_eq!(r.retries, 1, "{provider:?} {fault:?}");
                assert_eq!(used, 2);
            } else {
                assert_eq!(out.unwrap_err().kind(), kind, "{provider:?} {fault:?}");
                assert_eq!(used, 1, "{provider:?} {fault:?} must not be retried");
            }
        }
    }
}

#[tokio::test]
async fn latency_beyond_the_timeout_is_a_timeout() {
    let server = MockServer::start().await.unwrap();
    server.set_latency(Duration::from_millis(1500));
    for (provider, base) in providers(&server) {
        let c = client(provider, &base, "m", "k", Duration::from_millis(200));
        let e = c.complete(&ask("x")).await.unwrap_err();
        assert_eq!(e.kind(), "timeout", "{provider:?}: {e}");
        assert!(e.is_retryable());
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_connection_error_not_a_timeout() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for provider in [
        agentscale_models::Provider::Openai,
        agentscale_models::Provider::Anthropic,
    ] {
        let base = format!("http://127.0.0.1:{port}/v1");
        let c = client(provider, &base, "m", "k", Duration::from_secs(10));
        let e = c.complete(&ask("x")).await.unwrap_err();
        assert_eq!(e.kind(), "connection", "{provider:?}: {e}");
        assert!(e.to_string().contains("cannot connect"), "{e}");
        assert!(e.is_retryable());
    }
}

#[tokio::test]
async fn retry_after_one_second_is_honoured() {
    let server = MockServer::start().await.unwrap();
    for (provider, base) in providers(&server) {
        let n = server.request_count();
        server.fail_at(
            n,
            Fault::RateLimited {
                retry_after: Some("1".into()),
            },
        );
        let m = Retry::new(
            client(provider, &base, "m", "k", Duration::from_secs(10)),
            fast_retry(3),
        );
        let t0 = Instant::now();
        let r = m.complete(&ask("x")).await.unwrap();
        assert!(
            t0.elapsed() >= Duration::from_secs(1),
            "{provider:?}: {:?}",
            t0.elapsed()
        );
        assert_eq!(r.retries, 1);
        assert_eq!(server.request_count() - n, 2);
    }
}

#[tokio::test]
async fn retry_after_on_a_503_is_honoured_too() {
    let server = MockServer::start().await.unwrap();
    for (provider, base) in providers(&server) {
        let n = server.request_count();
        server.fail_at(
            n,
            Fault::Unavailable {
                retry_after: "1".into(),
            },
        );
        let m = Retry::new(
            client(provider, &base, "m", "k", Duration::from_secs(10)),
            fast_retry(3),
        );
        let t0 = Instant::now();
        let r = m.complete(&ask("x")).await.unwrap();
        assert!(
            t0.elapsed() >= Duration::from_secs(1),
            "{provider:?}: {:?} (backoff alone would be ~5 ms)",
            t0.elapsed()
        );
        assert_eq!(r.retries, 1);
        assert_eq!(server.request_count() - n, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_requests_with_ten_percent_500s_all_complete() {
    let server = MockServer::start().await.unwrap();
    server.fail_randomly(0.10, 2026, vec![Fault::ServerError { status: 500 }]);
    for (provider, base) in providers(&server) {
        let ledger = Arc::new(Ledger::new());
        let before_faults = server.faults_injected();
        let before = server.request_count();
        let m = Arc::new(stack(
            client(provider, &base, "m", "k", Duration::from_secs(10)),
            ledger.clone(),
            None,
            8,
        ));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let m = m.clone();
            tasks.push(tokio::spawn(async move {
                let mut req = ask(&format!("request {i}"));
                req.purpose = format!("req-{i}");
                m.complete(&req).await
            }));
        }
        let mut retries = 0u64;
        for t in tasks {
            let r = t
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{provider:?}: {e}"));
            assert!(r.message.content.starts_with("mock reply"));
            retries += u64::from(r.retries);
        }
        let faults = (server.faults_injected() - before_faults) as u64;
        assert!(faults >= 5, "{provider:?}: only {faults} faults injected");
        assert_eq!(retries, faults, "{provider:?}: every 500 was retried once");
        assert_eq!((server.request_count() - before) as u64, 200 + faults);
        let t = ledger.totals();
        assert_eq!(t.all.calls, 200);
        assert_eq!(t.all.failed, 0);
        assert_eq!(t.all.retries, faults);
    }
}
