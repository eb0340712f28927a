//! `headcount privacy-report`: the data-flow section of a DPIA, in Markdown, generated from the
//! effective configuration, so it describes what this deployment actually does.
//!
//! Reads only the config (and probes this kernel for Landlock); never opens the camera, the
//! model or the broker. [`warnings`] lists what to act on, [`outputs`] what leaves the device.

mod outputs;
mod warnings;

use std::fmt::Write;

use crate::config::dp_noise::{significant, DpNoise};
use crate::config::{Config, OccupancyMode, SourceKind};
use crate::source::redact_url;

/// The Markdown report for `config`.
pub fn markdown(config: &Config) -> String {
    let mut md = String::new();
    let p = &config.privacy;
    let input = match config.source.kind {
        SourceKind::Camera => format!(
            "the V4L2 camera `{}`, captured on this device",
            config.source.device
        ),
        SourceKind::Video if config.source.url.is_empty() => {
            "a video given per run (`headcount replay VIDEO`), decoded by ffmpeg on this device"
                .to_string()
        }
        SourceKind::Video => format!(
            "`{}`, decoded by ffmpeg on this device",
            redact_url(&config.source.url)
        ),
    };
    let (fps, lifetime) = if config.source.fps > 0.0 {
        (
            format!("{} frames per second", config.source.fps),
            format!(
                "within {:.0} ms (one frame interval)",
                1000.0 / config.source.fps
            ),
        )
    } else {
        (
            "the source's own frame rate".to_string(),
            "within one frame interval of the source".to_string(),
        )
    };
    let _ = writeln!(
        md,
        "# headcount: data-flow statement\n\n\
         Sensor `{}/{}`, headcount {} (build {}). Generated from the configuration by \
         `headcount privacy-report`.\n",
        config.sensor.site,
        config.sensor.name,
        env!("CARGO_PKG_VERSION"),
        option_env!("HEADCOUNT_BUILD").unwrap_or("unknown"),
    );

    let found = warnings::findings(config);
    let _ = writeln!(md, "## Warnings\n");
    if found.is_empty() {
        let _ = writeln!(md, "None for this configuration.\n");
    }
    for w in &found {
        let _ = writeln!(md, "- {w}");
    }
    if !found.is_empty() {
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "## What is processed, where, for how long\n\n\
         - **Images** from {input} at {fps}, scaled to the detector's input size into one reused \
         buffer in memory.\n\
         - Each frame is read into the person detector's input tensor, and once for scene-health \
         statistics (brightness, contrast, sharpness and a hash of a coarse grid, to tell a \
         blinded or frozen camera; only the verdict is published), then overwritten by the next \
         frame {lifetime}; buffers are zeroed when the pipeline stops. No frame, crop or pixel is \
         written to disk, logs, the network or any other output.\n\
         - **Person boxes** exist only in memory for the frame being counted; only their number is \
         kept.\n\
         - **Counts** are kept in memory over a window of {} frames (smoothing) and until the next \
         publication.",
        config.counting.smoothing_frames
    );
    let _ = writeln!(
        md,
        "- **Inference** runs on this device only: {}.",
        inference(config)
    );
    let colours = config.counting.appearance_weight;
    if colours > 0.0 {
        let _ = writeln!(
            md,
            "- **Coarse colours** (`counting.appearance_weight = {colours}`): for each person box, \
             the mean colour of the upper body and of the legs (six numbers) is read from the \
             frame before it is overwritten. The tracker keeps a running mean of them inside that \
             person's track, in memory and without an identifier, to keep people who pass each \
             other apart, and drops it with the track (at most {} s after the person was last \
             seen). They are never written, logged or published.",
            config.counting.track_hold_s + config.counting.track_lost_s
        );
    } else {
        let _ = writeln!(
            md,
            "- No appearance feature (colour, embedding) of a person is computed."
        );
    }
    if !p.masks.is_empty() {
        let _ = writeln!(
            md,
            "- **Masked areas**: {} polygon(s) ({}) are blacked out in every frame before the \
             detector sees it; nothing in them is analysed.",
            p.masks.len(),
            p.masks
                .iter()
                .map(|m| if m.name.is_empty() {
                    "unnamed".into()
                } else {
                    format!("`{}`", m.name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let cadence = if p.time_resolution_s > 0 {
        format!(
            "once per fixed {}-second bin, timestamped with the bin's end (whole seconds, UTC)",
            p.time_resolution_s
        )
    } else {
        format!(
            "when the count changes and at least every {} s, timestamped to the second (UTC)",
            config.mqtt.interval_s
        )
    };
    let tracked =
        !config.counting.lines.is_empty() || config.counting.occupancy != OccupancyMode::Detections;
    let _ = writeln!(
        md,
        "\n## What leaves the device, in what form, at what granularity\n\n{}\n\n{}\n\
         Occupancy is published {cadence}. Nothing per person is published: no image, box, \
         position, track, identifier or appearance feature.{}\n",
        outputs::transport(config),
        outputs::topics(config),
        if tracked {
            " People are followed across frames only in memory, without identifiers, to count \
             line crossings and hold people through missed detections."
        } else {
            ""
        }
    );

    let _ = writeln!(md, "## Safeguards\n");
    let _ = writeln!(
        md,
        "| safeguard | setting | protects against |\n|---|---|---|"
    );
    let _ = writeln!(
        md,
        "| k-banding of small counts | {} | singling out: a count of 1 in a small room points at one person |",
        if p.min_count > 1 {
            format!(
                "on, k = {}: occupancy and zone counts 1..{} are published as `\"<{}\"`{}",
                p.min_count,
                p.min_count - 1,
                p.min_count,
                if config.counting.lines.is_empty() { "" } else { "; line counts are exact (see Warnings)" }
            )
        } else {
            "off".into()
        }
    );
    let _ = writeln!(
        md,
        "| time binning | {} | linkability: matching a count change to a person's arrival time seen elsewhere (badge logs, calendars) |",
        if p.time_resolution_s > 0 {
            format!("on, {} s bins", p.time_resolution_s)
        } else {
            "off".into()
        }
    );
    let _ = writeln!(
        md,
        "| differential privacy | {} | inference: deducing an individual's presence from exact counts, even combined with other data |",
        if p.dp_epsilon_per_day > 0.0 {
            let noise = DpNoise::of(p).map(|n| (n.epsilon_per_release, n.releases_per_day, n.describe()));
            let (eps, releases, noise) = noise.unwrap_or_default();
            format!(
                "on, ε = {} per release, {} per UTC day ({releases} releases); {noise}; only the noisy count is released",
                significant(eps),
                p.dp_epsilon_per_day
            )
        } else {
            "off".into()
        }
    );
    let _ = writeln!(
        md,
        "| privacy masks | {} | observing areas that must not be observed (EDPB 3/2019 §129) |",
        if p.masks.is_empty() {
            "none".to_string()
        } else {
            format!("{} polygon(s)", p.masks.len())
        }
    );
    let writes = if config.state.dir.is_empty() {
        "no writes at all (no state dir)".to_string()
    } else {
        format!("writes only in `{}`", config.state.dir)
    };
    let here = match super::sandbox::probe() {
        Ok(abi) => format!("the kernel offers Landlock ABI {abi}"),
        Err(cause) => format!("Landlock is not available: {cause}"),
    };
    let _ = writeln!(
        md,
        "| self-sandboxing | Landlock, applied at start: {writes}, no listening socket, TCP connections only to the broker / camera; what was achieved is published as `sandbox` on the `privacy` topic (`landlock`, or `none:` and the cause) — check it there on the device. Where this report was made, {here} | a compromised process writing images to disk or serving them |\n"
    );
    let _ = writeln!(
        md,
        "## Storage on the device\n\n{}",
        if config.state.dir.is_empty() {
            "Nothing is stored: no state directory is configured (reports the broker has not \
             acknowledged are kept in memory only)."
                .to_string()
        } else {
            let mut items = vec![format!(
                "`{}/headcount.lock`: the running process's ID, so that a second headcount \
                 given the same directory stops instead of overwriting these records.",
                config.state.dir
            )];
            if p.dp_epsilon_per_day > 0.0 {
                items.push(format!(
                    "`{}/dp-budget.json`: the differential-privacy budget spent today (a date and a number).",
                    config.state.dir
                ));
            }
            if config.counting.occupancy == OccupancyMode::InMinusOut {
                items.push(format!(
                    "`{}/door-count.json`: the in − out occupancy and its counting day (two \
                     numbers), so that a restart keeps the people inside.",
                    config.state.dir
                ));
            }
            if !config.mqtt.url.is_empty() {
                items.push(format!(
                    "`{}/outbox.jsonl`: published reports (the same aggregate payloads as on MQTT) \
                     until the broker acknowledges them; at most {} entries and {} hours.",
                    config.state.dir, config.mqtt.queue_max, config.mqtt.queue_max_age_h
                ));
            }
            items.join("\n\n")
        }
    );
    md
}

/// Where the person detector runs, as `detector.runtime` and `detector.accelerator` decide.
fn inference(config: &Config) -> &'static str {
    use crate::config::{Accelerator, RuntimeKind};
    match (config.detector.runtime, config.detector.accelerator) {
        (RuntimeKind::Litert, _) | (_, Accelerator::Cpu) => {
            "on the CPU (the sensor's `health` topic names the runtime)"
        }
        (_, Accelerator::EdgeTpu) => {
            "on a Coral Edge TPU attached to it (each input tensor is copied to the TPU over USB \
             or PCIe and overwritten there by the next)"
        }
        (_, Accelerator::Auto) => {
            "on a Coral Edge TPU attached to it when there is one (each input tensor is copied \
             to the TPU over USB or PCIe and overwritten there by the next), else on the CPU; \
             the sensor's `health` topic names the runtime and the accelerator that ran"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MaskConfig;

    #[test]
    fn report_follows_the_config() {
        let mut c = Config::default();
        c.source.url = "rtsp://admin:secret@cam/1".into();
        let md = markdown(&c);
        assert!(
            md.contains("rtsp://***@cam/1") && !md.contains("secret"),
            "{md}"
        );
        assert!(md.contains("| k-banding of small counts | off"));
        assert!(md.contains("no broker is configured"));
        assert!(md.contains("No appearance feature") && !md.contains("Coarse colours"));
        c.privacy.min_count = 3;
        c.privacy.time_resolution_s = 300;
        c.privacy.dp_epsilon_per_day = 2.0;
        c.privacy.masks = vec![MaskConfig {
            name: "street window".into(),
            polygon: vec![[0.0, 0.0], [0.2, 0.0], [0.2, 0.3]],
        }];
        c.state.dir = "/var/lib/headcount".into();
        c.mqtt.url = "mqtt://broker:1883".into();
        let md = markdown(&c);
        assert!(md.contains("counts 1..2 are published as `\"<3\"`"), "{md}");
        assert!(md.contains("300 s bins"));
        assert!(
            md.contains("ε = 0.00694 per release, 2 per UTC day"),
            "{md}"
        );
        assert!(md.contains("`street window`"));
        assert!(md.contains("dp-budget.json"));
        assert!(md.contains("`/var/lib/headcount/headcount.lock`: the running process's ID"));
        assert!(!md.contains("door-count.json"));
        assert!(md.contains("MQTT broker `broker:1883`"));
        c.mqtt.url = "mqtt://node-1:1883,mqtt://node-2:1884".into();
        let md = markdown(&c);
        assert!(
            md.contains("one of the MQTT brokers `node-1:1883`, `node-2:1884`"),
            "{md}"
        );
        assert_eq!(
            crate::privacy::sandbox::allowed_ports(&c),
            [53, 554, 1883, 1884],
            "DNS, the camera's RTSP, both brokers"
        );
        c.mqtt.url = "mqtt://broker:1883".into();
        c.counting.appearance_weight = 4.0;
        let md = markdown(&c);
        assert!(
            md.contains("**Coarse colours** (`counting.appearance_weight = 4`)")
                && md.contains("at most 3 s after")
                && !md.contains("No appearance feature"),
            "{md}"
        );
        c.counting.occupancy = OccupancyMode::InMinusOut;
        assert!(markdown(&c).contains("`/var/lib/headcount/door-count.json`: the in − out"));
    }
}
