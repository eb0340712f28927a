//! The service run in-process, the way mini-redis's tests run its server: `Service::open` then
//! `run`, with the `Shutdown` injected by the test instead of wired to signals, publishing to a
//! real Mosquitto. The stop is the test's own, mid-clip, and everything a stop promises holds.

mod common;

use std::time::Duration;

use common::{one_by_one, Broker};
use headcount::config::Config;
use headcount::privacy::sandbox::SandboxStatus;
use headcount::service::{Service, ServiceOptions};
use headcount::shutdown::Shutdown;

const OPTIONS: ServiceOptions = ServiceOptions {
    print_json: false,
    end_is_error: false,
    progress: false,
};

fn config(broker: &Broker, realtime: bool) -> Config {
    let text = format!(
        "[sensor]\nsite = \"inproc\"\nname = \"hall\"\n\
         [source]\nurl = \"{}\"\nrealtime = {realtime}\n\
         [detector]\nruntime = \"litert\"\n\
         [mqtt]\nurl = \"{}\"\ninterval_s = 30\n",
        one_by_one().display(),
        broker.url()
    );
    let config = Config::parse(&text).unwrap();
    config.validate().unwrap();
    config
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn the_service_stops_mid_clip_when_its_injected_shutdown_is_triggered() {
    let broker = Broker::start();
    let sub = broker.subscribe("headcount/inproc/hall/#");
    let shutdown = Shutdown::new();
    // The clip paced in real time (about 140 s): only the test's stop can end it early.
    let config = config(&broker, true);
    // Stops once frames have made a report: the first occupancy report after `online`.
    let stop = shutdown.clone();
    let waiter = std::thread::spawn(move || {
        let seen = sub.wait_for(Duration::from_secs(60), |m| {
            m.topic.ends_with("/occupancy") && !m.retained
        });
        stop.trigger();
        (seen, sub)
    });
    let stats = runtime()
        .block_on(async {
            let service = Service::open(
                config,
                OPTIONS,
                SandboxStatus::Unavailable("in-process test".into()),
                shutdown.clone(),
            )
            .await?
            .expect("opened (nothing asked it to stop yet)");
            service.run().await
        })
        .unwrap();
    let (seen, sub) = waiter.join().unwrap();
    assert!(seen, "no occupancy report: {:?}", sub.messages());
    assert!(shutdown.is_triggered());
    assert!(
        stats.frames > 0 && stats.frames < 1394,
        "stopped mid-clip: {} frames",
        stats.frames
    );
    // A stop is clean: `offline` retained, the last health says the source was stopped.
    assert_eq!(
        broker
            .retained("headcount/inproc/hall/availability")
            .as_deref(),
        Some("offline")
    );
    let health: serde_json::Value = serde_json::from_str(
        &broker
            .retained("headcount/inproc/hall/health")
            .expect("a retained health report"),
    )
    .unwrap();
    assert_eq!(health["source"], "stopped", "{health}");
}

#[test]
fn a_shutdown_triggered_before_the_source_opens_opens_nothing() {
    let broker = Broker::start();
    let shutdown = Shutdown::new();
    shutdown.trigger();
    let opened = runtime()
        .block_on(Service::open(
            config(&broker, false),
            OPTIONS,
            SandboxStatus::Unavailable("in-process test".into()),
            shutdown,
        ))
        .unwrap();
    assert!(opened.is_none(), "a stopped service must not open");
    // Nothing was announced.
    assert_eq!(broker.retained("headcount/inproc/hall/availability"), None);
}
