//! The daily reset's local time follows daylight saving changes: the UTC offset is read for the
//! moment in question, not once at start. Its own test binary, because the C library reads the
//! time zone (`TZ`) once per process.

use headcount::count::door::local_utc_offset_at;

#[test]
fn the_local_utc_offset_follows_daylight_saving_time() {
    // Central European time as a POSIX rule (no tzdata needed): UTC+1, UTC+2 from the last
    // Sunday of March to the last Sunday of October.
    // SAFETY: the only test in this binary, and no other thread reads the environment yet.
    unsafe { std::env::set_var("TZ", "CET-1CEST,M3.5.0,M10.5.0/3") };
    let winter = 1_767_225_600; // 2026-01-01T00:00:00Z
    let summer = 1_782_864_000; // 2026-07-01T00:00:00Z
    assert_eq!(local_utc_offset_at(winter), 3600);
    assert_eq!(local_utc_offset_at(summer), 7200);
    // 2026-10-25, clocks go back at 01:00 UTC.
    let fall_back = 1_792_890_000;
    assert_eq!(local_utc_offset_at(fall_back - 1), 7200);
    assert_eq!(local_utc_offset_at(fall_back), 3600);
}
