//! `headcount devices`: the cameras (V4L2 capture devices, with their pixel formats and frame
//! sizes) and Edge TPUs (through libedgetpu's device listing) this machine has.
//!
//! Only asks drivers what they can do: it never starts streaming, so it never sees a frame.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::detect::edgetpu;

/// One V4L2 capture device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Camera {
    pub node: PathBuf,
    pub name: String,
    /// Pixel formats (FourCC) with their discrete frame sizes (empty when the driver describes
    /// a range instead).
    pub formats: Vec<(String, Vec<(u32, u32)>)>,
}

const VIDIOC_QUERYCAP: libc::c_ulong = 0x8068_5600;
const VIDIOC_ENUM_FMT: libc::c_ulong = 0xC040_5602;
const VIDIOC_ENUM_FRAMESIZES: libc::c_ulong = 0xC02C_564A;
const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
const CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
const CAP_DEVICE_CAPS: u32 = 0x8000_0000;
const FRMSIZE_TYPE_DISCRETE: u32 = 1;

#[repr(C)]
struct Capability {
    driver: [u8; 16],
    card: [u8; 32],
    bus_info: [u8; 32],
    version: u32,
    capabilities: u32,
    device_caps: u32,
    reserved: [u32; 3],
}

#[repr(C)]
struct FmtDesc {
    index: u32,
    kind: u32,
    flags: u32,
    description: [u8; 32],
    pixelformat: u32,
    mbus_code: u32,
    reserved: [u32; 3],
}

#[repr(C)]
struct FrmSizeEnum {
    index: u32,
    pixel_format: u32,
    kind: u32,
    size: [u32; 6],
    reserved: [u32; 2],
}

/// A FourCC code as text ("YUYV", "MJPG").
pub fn fourcc(code: u32) -> String {
    code.to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect::<String>()
        .trim_end()
        .to_string()
}

fn cstr(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `ioctl` on an open device; false when the driver says no.
fn ioctl<T>(fd: libc::c_int, request: libc::c_ulong, arg: &mut T) -> bool {
    // SAFETY: `arg` is a repr(C) struct of the size the request encodes, valid for the call.
    unsafe { libc::ioctl(fd, request as _, arg as *mut T) == 0 }
}

/// Asks one device node what it captures; `None` if it is not a capture device.
pub fn probe(node: &Path) -> Option<Camera> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(node)
        .ok()?;
    let fd = file.as_raw_fd();
    // SAFETY: all-zero is a valid value of these plain C structs.
    let mut cap: Capability = unsafe { std::mem::zeroed() };
    if !ioctl(fd, VIDIOC_QUERYCAP, &mut cap) {
        return None;
    }
    let caps = if cap.capabilities & CAP_DEVICE_CAPS != 0 {
        cap.device_caps
    } else {
        cap.capabilities
    };
    if caps & CAP_VIDEO_CAPTURE == 0 {
        return None;
    }
    let mut formats = Vec::new();
    for index in 0..64 {
        // SAFETY: as above.
        let mut desc: FmtDesc = unsafe { std::mem::zeroed() };
        desc.index = index;
        desc.kind = BUF_TYPE_VIDEO_CAPTURE;
        if !ioctl(fd, VIDIOC_ENUM_FMT, &mut desc) {
            break;
        }
        let mut sizes = Vec::new();
        for i in 0..64 {
            // SAFETY: as above.
            let mut size: FrmSizeEnum = unsafe { std::mem::zeroed() };
            size.index = i;
            size.pixel_format = desc.pixelformat;
            if !ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &mut size) || size.kind != FRMSIZE_TYPE_DISCRETE {
                break;
            }
            sizes.push((size.size[0], size.size[1]));
        }
        formats.push((fourcc(desc.pixelformat), sizes));
    }
    Some(Camera {
        node: node.to_path_buf(),
        name: cstr(&cap.card),
        formats,
    })
}

/// Every V4L2 capture device under `/dev`.
pub fn cameras() -> Vec<Camera> {
    let nodes = crate::source::video_nodes();
    nodes.iter().filter_map(|n| probe(n)).collect()
}

/// The `devices` report: cameras, then Edge TPUs, saying plainly when there are none.
pub fn report(edgetpu_library: &str) -> String {
    let mut out = String::new();
    let cams = cameras();
    if cams.is_empty() {
        out.push_str("cameras: none found (no V4L2 capture device under /dev/video*)\n");
    } else {
        out.push_str("cameras:\n");
        for c in &cams {
            let _ = writeln!(out, "  {}  {}", c.node.display(), c.name);
            for (format, sizes) in &c.formats {
                let sizes: Vec<String> = sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect();
                let _ = writeln!(
                    out,
                    "    {format}: {}",
                    if sizes.is_empty() {
                        "any size in a range".to_string()
                    } else {
                        sizes.join(" ")
                    }
                );
            }
        }
    }
    let library = edgetpu::library(edgetpu_library);
    match edgetpu::list_devices(library) {
        Ok(tpus) if tpus.is_empty() => {
            let _ = writeln!(out, "edge tpus: none found ({library} loaded, no device)");
        }
        Ok(tpus) => {
            out.push_str("edge tpus (as detector.edgetpu_device names them):\n");
            let (mut usb, mut pci) = (0, 0);
            for t in &tpus {
                let n = if t.kind == "usb" { &mut usb } else { &mut pci };
                let _ = writeln!(out, "  {}:{}  {}", t.kind, *n, t.path);
                *n += 1;
            }
            // Without its Edge TPU twin the bundled model runs on the CPU: say what is missing.
            let twin = edgetpu::twin_of(&crate::detect::bundled_model());
            if twin.is_file() {
                let _ = writeln!(out, "edge tpu model (bundled SSD): {}", twin.display());
            } else {
                let _ = writeln!(
                    out,
                    "edge tpu model (bundled SSD): MISSING, the TPU is unused: {}",
                    edgetpu::EdgeTpuError::NoModel { twin }
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "edge tpus: none found ({e})");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourcc_codes_read_as_text() {
        assert_eq!(fourcc(u32::from_le_bytes(*b"YUYV")), "YUYV");
        assert_eq!(fourcc(u32::from_le_bytes(*b"MJPG")), "MJPG");
        assert_eq!(fourcc(u32::from_le_bytes(*b"NV12")), "NV12");
        assert_eq!(std::mem::size_of::<FmtDesc>(), 64);
        assert_eq!(std::mem::size_of::<FrmSizeEnum>(), 44);
        assert_eq!(std::mem::size_of::<Capability>(), 104);
    }
}
