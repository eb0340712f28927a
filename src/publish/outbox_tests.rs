//! Unit tests of the store-and-forward queue (`outbox.rs`).
use super::*;

#[test]
fn entries_survive_a_restart_in_order_and_leave_when_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let day = Duration::from_secs(86_400);
    let mut q = Outbox::open(Some(dir.path()), 100, day).unwrap();
    for i in 0..5 {
        q.push(format!("t/{i}"), format!("{{\"seq\":{i}}}"));
    }
    q.remove_front(2);
    drop(q);
    // A torn last line (crash mid-write) is ignored.
    let path = dir.path().join(FILE_NAME);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"topic\":\"t/x\",\"pay");
    std::fs::write(&path, text).unwrap();
    let q = Outbox::open(Some(dir.path()), 100, day).unwrap();
    let topics: Vec<&str> = (0..q.len())
        .map(|i| q.get(i).unwrap().topic.as_str())
        .collect();
    assert_eq!(topics, vec!["t/2", "t/3", "t/4"]);
}

#[test]
fn a_queue_file_that_is_not_a_file_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join(FILE_NAME)).unwrap();
    let err = Outbox::open(Some(dir.path()), 100, Duration::from_secs(60)).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn only_the_newest_entry_of_a_topic_is_published_retained() {
    let mut q = Outbox::in_memory(100, Duration::from_secs(3600));
    for topic in ["s/occupancy", "s/line/door", "s/occupancy", "s/occupancy"] {
        q.push(topic.into(), "{}".into());
    }
    let newest: Vec<bool> = (0..5).map(|i| q.is_newest_on_topic(i)).collect();
    assert_eq!(newest, [false, true, false, true, false]);
}

#[test]
fn bounded_by_count_dropping_the_oldest() {
    let mut q = Outbox::open(None, 3, Duration::from_secs(3600)).unwrap();
    for i in 0..5 {
        q.push(format!("t/{i}"), "{}".into());
    }
    assert_eq!((q.len(), q.dropped()), (3, 2));
    assert_eq!(q.get(0).unwrap().topic, "t/2");
}

#[test]
fn bounded_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let old = Entry {
        topic: "t/old".into(),
        payload: "{}".into(),
        queued: 1,
    };
    std::fs::write(
        dir.path().join(FILE_NAME),
        format!("{}\n", serde_json::to_string(&old).unwrap()),
    )
    .unwrap();
    let q = Outbox::open(Some(dir.path()), 100, Duration::from_secs(3600)).unwrap();
    assert_eq!((q.len(), q.dropped()), (0, 1));
}

#[test]
fn a_file_that_cannot_be_written_leaves_the_queue_in_memory_until_it_can() {
    let dir = tempfile::tempdir().unwrap();
    let day = Duration::from_secs(86_400);
    let mut q = Outbox::open(Some(dir.path()), 100, day).unwrap();
    q.push("t/0".into(), "{}".into());
    // Appending fails (ENOSPC), and so does writing the whole queue anew (the temporary
    // file's name is taken by a directory: not a full card, so the reserve does not help).
    let path = dir.path().join(FILE_NAME);
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    let tmp = path.with_extension("jsonl.tmp");
    std::fs::create_dir(&tmp).unwrap();
    q.push("t/1".into(), "{}".into());
    assert_eq!(q.len(), 2, "nothing is lost from the queue");
    let why = q.unsaved().unwrap_or_default().to_string();
    assert!(why.contains("outbox.jsonl"), "{why}");
    assert_eq!(
        q.save_now(),
        Err(why),
        "a save that did not happen is not claimed"
    );
    // The next change saves the whole queue through a new file, renamed over the old one
    // (here over the link).
    std::fs::remove_dir(&tmp).unwrap();
    q.push("t/2".into(), "{}".into());
    assert_eq!(q.unsaved(), None);
    drop(q);
    let q = Outbox::open(Some(dir.path()), 100, day).unwrap();
    let topics: Vec<&str> = (0..q.len())
        .map(|i| q.get(i).unwrap().topic.as_str())
        .collect();
    assert_eq!(topics, vec!["t/0", "t/1", "t/2"]);
}

#[test]
fn a_full_card_is_met_with_the_reserve() {
    let dir = tempfile::tempdir().unwrap();
    let day = Duration::from_secs(86_400);
    let mut q = Outbox::open(Some(dir.path()), 100, day).unwrap();
    let reserve = dir.path().join("outbox.reserve");
    assert_eq!(std::fs::metadata(&reserve).unwrap().len(), RESERVE_BYTES);
    q.push("t/0".into(), "{}".into());
    // Both the append and the first whole write meet a full card (ENOSPC)…
    let path = dir.path().join(FILE_NAME);
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    std::os::unix::fs::symlink("/dev/full", path.with_extension("jsonl.tmp")).unwrap();
    q.push("t/1".into(), "{}".into());
    // …the reserve is given back and the write tried again.
    assert!(!reserve.exists());
    assert_eq!(q.unsaved(), None);
    // Once there is room again (and a minute has passed), the reserve is made again.
    q.reserve.tried = q.reserve.tried.map(|t| t - reserve::RESERVE_RETRY);
    q.push("t/2".into(), "{}".into());
    assert_eq!(std::fs::metadata(&reserve).unwrap().len(), RESERVE_BYTES);
    drop(q);
    let q = Outbox::open(Some(dir.path()), 100, day).unwrap();
    assert_eq!(q.len(), 3);
}

#[test]
fn unreadable_lines_are_set_aside_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let good = |t: &str| {
        format!(
            "{{\"topic\":\"{t}\",\"payload\":\"{{}}\",\"queued\":{}}}\n",
            now_unix()
        )
    };
    let mut bytes = good("t/0").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe not utf-8\n{\"topic\":1}\n");
    bytes.extend_from_slice(good("t/1").as_bytes());
    bytes.extend_from_slice(b"{\"topic\":\"t/x\",\"pay");
    std::fs::write(&path, &bytes).unwrap();
    let q = Outbox::open(Some(dir.path()), 100, Duration::from_secs(3600)).unwrap();
    assert_eq!((q.len(), q.damaged()), (2, 3));
    // The file now holds the good records only; the rest is beside it.
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("outbox.damaged-")
        })
        .map(|e| std::fs::read(e.path()).unwrap());
    assert_eq!(
        aside.as_deref(),
        Some(&b"\xff\xfe not utf-8\n{\"topic\":1}\n{\"topic\":\"t/x\",\"pay\n"[..])
    );
}
