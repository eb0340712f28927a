//! Home Assistant discovery for the site's entities (one device, "headcount <site> site"):
//! building occupancy, today's entrance totals, the rooms' sum, sensors online and offline.

use crate::config::AggregateConfig;
use crate::publish::schema::{DiscoveryDevice, DiscoveryPayload};

/// (object, name, topic, template, icon, state class, unit).
type Entity<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

/// (topic, config) for every site entity.
pub fn configs(config: &AggregateConfig) -> Vec<(String, DiscoveryPayload)> {
    let root = config.topic_root();
    let node = format!("headcount_{}_site", config.site.name).replace(['.', '-'], "_");
    let device = DiscoveryDevice {
        identifiers: vec![node.clone()],
        name: format!("headcount {} site", config.site.name),
        manufacturer: "headcount".into(),
        model: "site aggregator".into(),
        sw_version: env!("CARGO_PKG_VERSION").into(),
    };
    let expire_after = 3 * u64::from(config.mqtt.interval_s) + 30;
    let banded = config.privacy.min_count > 1;
    let count_class = (!banded).then_some("measurement");
    let entities: [Entity; 6] = [
        (
            "building",
            "Building occupancy",
            "building",
            "{{ value_json.count }}",
            "mdi:office-building",
            count_class,
            Some("people"),
        ),
        (
            "in_today",
            "Entered today",
            "building",
            "{{ value_json.in_total }}",
            "mdi:login",
            Some("total_increasing"),
            Some("people"),
        ),
        (
            "out_today",
            "Left today",
            "building",
            "{{ value_json.out_total }}",
            "mdi:logout",
            Some("total_increasing"),
            Some("people"),
        ),
        (
            "rooms",
            "Rooms occupancy",
            "occupancy",
            "{{ value_json.count }}",
            "mdi:account-group",
            count_class,
            Some("people"),
        ),
        (
            "sensors_online",
            "Sensors online",
            "sensors",
            "{{ value_json.online | length }}",
            "mdi:lan-connect",
            Some("measurement"),
            None,
        ),
        (
            "sensors_offline",
            "Sensors offline",
            "sensors",
            "{{ value_json.offline | length }}",
            "mdi:lan-disconnect",
            Some("measurement"),
            None,
        ),
    ];
    entities
        .into_iter()
        .map(|(object, name, topic, template, icon, class, unit)| {
            (
                format!(
                    "{}/sensor/{node}/{object}/config",
                    config.mqtt.discovery_prefix
                ),
                DiscoveryPayload {
                    name: name.into(),
                    unique_id: format!("{node}_{object}"),
                    default_entity_id: format!("sensor.{node}_{object}"),
                    state_topic: format!("{root}/{topic}"),
                    value_template: template.into(),
                    state_class: class.map(str::to_string),
                    unit_of_measurement: class.and(unit).map(str::to_string),
                    entity_category: None,
                    device_class: None,
                    payload_on: None,
                    payload_off: None,
                    icon: icon.into(),
                    availability_topic: format!("{root}/availability"),
                    payload_available: "online".into(),
                    payload_not_available: "offline".into(),
                    expire_after,
                    device: device.clone(),
                },
            )
        })
        .collect()
}
