//! Home Assistant MQTT discovery: retained config messages under
//! `<prefix>/sensor/<node>/<object>/config` that make the sensor appear in Home Assistant with its
//! device, availability and state class, re-sent whenever Home Assistant announces itself
//! (`<prefix>/status` = `online`).
//!
//! Describes only the aggregate topics headcount already publishes; adds no data of its own.

use super::schema::{line_path, zone_path, DiscoveryDevice, DiscoveryPayload, Topic};
use crate::config::Config;

/// The camera view problem entity's state from the `health` payload.
pub const VIEW_PROBLEM_TEMPLATE: &str =
    "{{ 'ON' if value_json.source in ('blind', 'frozen') else 'OFF' }}";

/// The discovery topic Home Assistant publishes its own `online` / `offline` on.
pub fn status_topic(config: &Config) -> String {
    format!("{}/status", config.mqtt.discovery_prefix)
}

/// (topic, config) for every entity of this sensor.
pub fn configs(config: &Config) -> Vec<(String, DiscoveryPayload)> {
    let root = config.topic_root();
    let node =
        format!("headcount_{}_{}", config.sensor.site, config.sensor.name).replace(['.', '-'], "_");
    let device = DiscoveryDevice {
        identifiers: vec![node.clone()],
        name: format!("headcount {}/{}", config.sensor.site, config.sensor.name),
        manufacturer: "headcount".into(),
        model: "people counter".into(),
        sw_version: env!("CARGO_PKG_VERSION").into(),
    };
    let p = &config.privacy;
    // Publication gaps: the heartbeat interval, or a time bin, whichever is longer; HA may wait
    // three of them before calling the value stale.
    let period = u64::from(config.mqtt.interval_s.max(p.time_resolution_s));
    let expire_after = 3 * period + 30;
    // With k-banding a count can be the text "<k": then the entity is text, not a measurement.
    let banded = p.min_count > 1;
    // (object id, name, state topic, template, icon, state class, unit, diagnostic)
    let entity = |object: String,
                  name: String,
                  state_topic: String,
                  template: &str,
                  icon: &str,
                  state_class: Option<&str>,
                  unit: Option<&str>,
                  diagnostic: bool| {
        (
            format!(
                "{}/sensor/{node}/{object}/config",
                config.mqtt.discovery_prefix
            ),
            DiscoveryPayload {
                name,
                unique_id: format!("{node}_{object}"),
                default_entity_id: format!("sensor.{node}_{object}"),
                state_topic,
                value_template: template.into(),
                state_class: state_class.map(str::to_string),
                unit_of_measurement: state_class.and(unit).map(str::to_string),
                entity_category: diagnostic.then(|| "diagnostic".to_string()),
                device_class: None,
                payload_on: None,
                payload_off: None,
                icon: icon.into(),
                availability_topic: Topic::Availability.path(&root),
                payload_available: "online".into(),
                payload_not_available: "offline".into(),
                expire_after,
                device: device.clone(),
            },
        )
    };
    // Occupancy counts are text when banded ("<3"), measurements otherwise.
    let count_class = (!banded).then_some("measurement");
    let mut all = vec![
        entity(
            "occupancy".into(),
            "Occupancy".into(),
            Topic::Occupancy.path(&root),
            "{{ value_json.count }}",
            "mdi:account-group",
            count_class,
            Some("people"),
            false,
        ),
        entity(
            "fps".into(),
            "Frames per second".into(),
            Topic::Health.path(&root),
            "{{ value_json.fps }}",
            "mdi:speedometer",
            Some("measurement"),
            Some("fps"),
            true,
        ),
        entity(
            "inference_ms".into(),
            "Inference time".into(),
            Topic::Health.path(&root),
            "{{ value_json.inference_ms_p50 }}",
            "mdi:timer-outline",
            Some("measurement"),
            Some("ms"),
            true,
        ),
    ];
    for z in &config.counting.zones {
        all.push(entity(
            format!("zone_{}", z.name.replace('-', "_")),
            format!("Occupancy {}", z.name),
            zone_path(&root, &z.name),
            "{{ value_json.count }}",
            "mdi:account-group-outline",
            count_class,
            Some("people"),
            false,
        ));
    }
    // A problem entity: ON while the camera is blind or frozen (its counts are unreliable).
    let (topic, mut view) = entity(
        "camera_view".into(),
        "Camera view problem".into(),
        Topic::Health.path(&root),
        VIEW_PROBLEM_TEMPLATE,
        "mdi:cctv-off",
        None,
        None,
        true,
    );
    view.device_class = Some("problem".into());
    view.payload_on = Some("ON".into());
    view.payload_off = Some("OFF".into());
    view.default_entity_id = view
        .default_entity_id
        .replacen("sensor.", "binary_sensor.", 1);
    all.push((topic.replacen("/sensor/", "/binary_sensor/", 1), view));
    // Line totals only grow until the daily reset: Home Assistant's `total_increasing`.
    for l in &config.counting.lines {
        let id = l.name.replace('-', "_");
        for (dir, field, icon) in [
            ("in", "in_total", "mdi:location-enter"),
            ("out", "out_total", "mdi:location-exit"),
        ] {
            all.push(entity(
                format!("line_{id}_{dir}"),
                format!("{} {dir}", l.name),
                line_path(&root, &l.name),
                &format!("{{{{ value_json.{field} }}}}"),
                icon,
                Some("total_increasing"),
                Some("people"),
                false,
            ));
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupancy_entity_follows_home_assistants_fields() {
        let mut c = Config::default();
        c.sensor.site = "hq".into();
        c.sensor.name = "room-4.12".into();
        let all = configs(&c);
        let (topic, occ) = &all[0];
        assert_eq!(
            topic,
            "homeassistant/sensor/headcount_hq_room_4_12/occupancy/config"
        );
        assert_eq!(occ.state_topic, "headcount/hq/room-4.12/occupancy");
        assert_eq!(
            occ.availability_topic,
            "headcount/hq/room-4.12/availability"
        );
        assert_eq!(occ.state_class.as_deref(), Some("measurement"));
        assert_eq!(occ.unit_of_measurement.as_deref(), Some("people"));
        assert_eq!(
            occ.device.identifiers,
            vec!["headcount_hq_room_4_12".to_string()]
        );
        assert_eq!(occ.expire_after, 3 * 60 + 30);
        assert!(all
            .iter()
            .skip(1)
            .all(|(_, s)| s.entity_category.as_deref() == Some("diagnostic")));
        let ids: std::collections::HashSet<_> =
            all.iter().map(|(_, s)| s.unique_id.clone()).collect();
        assert_eq!(ids.len(), all.len(), "unique ids must be unique");
    }

    #[test]
    fn zones_and_line_totals_are_announced() {
        let c = Config::parse(
            "[[counting.zones]]\nname = \"desks\"\npolygon = [[0,0],[1,0],[1,1]]\n\
             [[counting.lines]]\nname = \"front-door\"\nfrom = [0, 0.5]\nto = [1, 0.5]\n",
        )
        .unwrap();
        let all = configs(&c);
        let zone = all
            .iter()
            .find(|(t, _)| t.contains("/zone_desks/"))
            .unwrap();
        assert_eq!(zone.1.state_topic, "headcount/default/sensor/zone/desks");
        assert_eq!(zone.1.state_class.as_deref(), Some("measurement"));
        let door_in = all
            .iter()
            .find(|(t, _)| t.ends_with("/line_front_door_in/config"))
            .unwrap();
        assert_eq!(
            door_in.1.state_topic,
            "headcount/default/sensor/line/front-door"
        );
        assert_eq!(door_in.1.state_class.as_deref(), Some("total_increasing"));
        assert_eq!(door_in.1.value_template, "{{ value_json.in_total }}");
        assert!(all
            .iter()
            .any(|(t, s)| t.ends_with("/line_front_door_out/config")
                && s.value_template == "{{ value_json.out_total }}"));
    }

    #[test]
    fn a_blind_or_frozen_camera_is_a_problem_entity() {
        let all = configs(&Config::default());
        let (topic, view) = all
            .iter()
            .find(|(t, _)| t.contains("/camera_view/"))
            .unwrap();
        assert_eq!(
            topic,
            "homeassistant/binary_sensor/headcount_default_sensor/camera_view/config"
        );
        assert_eq!(view.device_class.as_deref(), Some("problem"));
        assert_eq!(view.state_topic, "headcount/default/sensor/health");
        assert_eq!(
            (view.state_class.clone(), view.unit_of_measurement.clone()),
            (None, None)
        );
        assert!(view.value_template.contains("'blind', 'frozen'"));
        assert_eq!(
            view.default_entity_id,
            "binary_sensor.headcount_default_sensor_camera_view"
        );
    }

    /// Home Assistant 2026.4 honours `default_entity_id` and no longer `object_id`: the entity
    /// ids users have (`sensor.headcount_<site>_<sensor>_<object>`) stay the same.
    #[test]
    fn entity_ids_are_set_with_default_entity_id() {
        let all = configs(&Config::default());
        let (_, occupancy) = &all[0];
        assert_eq!(
            occupancy.default_entity_id,
            "sensor.headcount_default_sensor_occupancy"
        );
        let json = serde_json::to_string(occupancy).unwrap();
        assert!(!json.contains("object_id"), "{json}");
    }

    #[test]
    fn banded_counts_are_text_not_measurements() {
        let mut c = Config::default();
        c.privacy.min_count = 3;
        c.privacy.time_resolution_s = 900;
        let (_, occ) = &configs(&c)[0];
        assert_eq!(occ.state_class, None);
        assert_eq!(occ.unit_of_measurement, None);
        assert_eq!(occ.expire_after, 3 * 900 + 30);
        assert_eq!(status_topic(&c), "homeassistant/status");
    }
}
