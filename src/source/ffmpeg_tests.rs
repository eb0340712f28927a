//! The ffmpeg child as `FfmpegSource` starts it, on the committed clip.

use super::*;
use crate::source::child::PIPE_BYTES;
use crate::source::Fit;

const CLIP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/one-by-one/one-by-one-person-detection.mp4"
);

const SSD: FrameGeometry = FrameGeometry {
    width: 300,
    height: 300,
    fit: Fit::Stretch,
};

/// The threads of the ffmpeg child of a source opened with `threads`, once it has delivered a
/// frame (its decoder and filter threads are started by then).
fn ffmpeg_threads(threads: u32) -> usize {
    let options = FfmpegOptions {
        threads,
        ..FfmpegOptions::default()
    };
    let mut source = FfmpegSource::open(CLIP, SSD, &options).unwrap();
    assert!(source.next_frame().unwrap().is_some());
    let tasks = std::fs::read_dir(format!("/proc/{}/task", source.child.id())).unwrap();
    tasks.count()
}

#[test]
fn decoder_threads_reach_ffmpeg() {
    // The clip is H.264, which ffmpeg decodes on one thread per core and one more unless told.
    let one = ffmpeg_threads(1);
    let three = ffmpeg_threads(3);
    assert!(
        three > one,
        "ffmpeg threads: {one} asked for 1, {three} asked for 3"
    );
}

#[test]
fn the_frame_pipe_holds_several_frames() {
    use std::os::fd::AsRawFd;
    let mut source = FfmpegSource::open(CLIP, SSD, &FfmpegOptions::default()).unwrap();
    // SAFETY: F_GETPIPE_SZ reads the capacity of a pipe descriptor the source owns.
    let bytes = unsafe { libc::fcntl(source.stdout.as_raw_fd(), libc::F_GETPIPE_SZ) };
    let max: i32 = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if max >= PIPE_BYTES {
        // Linux's default limit: three 300 x 300 frames fit ahead of the reader.
        assert_eq!(bytes, PIPE_BYTES);
        assert!(bytes as usize >= 3 * SSD.rgb_len(), "{bytes} bytes");
    }
    // ffmpeg runs ahead of the reader, and the frames read are the clip's, all of them.
    let mut frames = 0;
    while source.next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 1394);
}
