//! Preprocessing: RGB24 pixels (already at the model's input size) into the input tensor.
//!
//! A model family says how it was trained to see pixels, as a [`Normalization`]
//! (`real = (pixel - mean) / std`); the input tensor says how real values are stored (its type and
//! quantisation: `q = real / scale + zero_point`). Both are folded once into a 256-entry lookup
//! table, so the per-frame work is one lookup per byte, with no allocation. For the usual exports
//! (SSD uint8 with scale 1/128 and zero point 128, YOLO uint8 with scale 1/255) the table is the
//! identity and the frame is copied straight in. Writes only into the interpreter's input tensor;
//! never copies a frame anywhere else.

/// How a model family expects pixel values: `real = (pixel - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    pub mean: f32,
    pub std: f32,
}

impl Normalization {
    /// Pixels to about [-1, 1): SSD MobileNet and most TF detection models (as pycoral does).
    pub const SIGNED_UNIT: Normalization = Normalization {
        mean: 128.0,
        std: 128.0,
    };
    /// Pixels to [0, 1]: YOLO models.
    pub const UNIT: Normalization = Normalization {
        mean: 0.0,
        std: 255.0,
    };
}

/// The element type of a model's image input, with its quantisation where it has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputKind {
    U8 { scale: f32, zero_point: i32 },
    I8 { scale: f32, zero_point: i32 },
    F32,
}

/// A precomputed pixel → tensor-element table.
#[derive(Debug, Clone)]
pub enum InputLut {
    /// Quantised 8-bit input that stores pixels unchanged: a plain copy.
    Identity,
    U8([u8; 256]),
    I8([i8; 256]),
    F32(Box<[f32; 256]>),
}

impl InputLut {
    /// Builds the table mapping a pixel to the element the model expects. A quantised input
    /// without a scale (0) takes raw pixel values (uint8) or pixels shifted by 128 (int8).
    pub fn new(kind: InputKind, norm: Normalization) -> Self {
        let real = |p: usize| (p as f32 - norm.mean) / norm.std;
        let quantise = |p: usize, scale: f32, zp: i32, lo: f32, hi: f32| {
            (real(p) / scale + zp as f32).round().clamp(lo, hi)
        };
        match kind {
            InputKind::U8 { scale, zero_point } => {
                let t: [u8; 256] = std::array::from_fn(|p| {
                    if scale > 0.0 {
                        quantise(p, scale, zero_point, 0.0, 255.0) as u8
                    } else {
                        p as u8
                    }
                });
                if t.iter().enumerate().all(|(p, &q)| p == q as usize) {
                    InputLut::Identity
                } else {
                    InputLut::U8(t)
                }
            }
            InputKind::I8 { scale, zero_point } => InputLut::I8(std::array::from_fn(|p| {
                if scale > 0.0 {
                    quantise(p, scale, zero_point, -128.0, 127.0) as i8
                } else {
                    (p as i16 - 128) as i8
                }
            })),
            InputKind::F32 => InputLut::F32(Box::new(std::array::from_fn(real))),
        }
    }

    /// Bytes per tensor element.
    pub fn element_size(&self) -> usize {
        match self {
            InputLut::Identity | InputLut::U8(_) | InputLut::I8(_) => 1,
            InputLut::F32(_) => 4,
        }
    }

    /// Writes `rgb` into `tensor` (raw bytes of the input tensor, native endianness).
    /// `tensor.len()` must be `rgb.len() * element_size()`.
    pub fn apply(&self, rgb: &[u8], tensor: &mut [u8]) {
        match self {
            InputLut::Identity => tensor.copy_from_slice(rgb),
            InputLut::U8(t) => {
                for (dst, &p) in tensor.iter_mut().zip(rgb) {
                    *dst = t[p as usize];
                }
            }
            InputLut::I8(t) => {
                for (dst, &p) in tensor.iter_mut().zip(rgb) {
                    *dst = t[p as usize] as u8;
                }
            }
            InputLut::F32(t) => {
                for (dst, &p) in tensor.chunks_exact_mut(4).zip(rgb) {
                    dst.copy_from_slice(&t[p as usize].to_ne_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssd_uint8_export_is_a_plain_copy() {
        // detect.tflite: uint8, scale 1/128, zero point 128.
        let kind = InputKind::U8 {
            scale: 1.0 / 128.0,
            zero_point: 128,
        };
        let lut = InputLut::new(kind, Normalization::SIGNED_UNIT);
        assert!(matches!(lut, InputLut::Identity));
        let rgb = [0u8, 127, 128, 255];
        let mut t = [9u8; 4];
        lut.apply(&rgb, &mut t);
        assert_eq!(t, rgb);
    }

    #[test]
    fn yolo_uint8_export_is_a_plain_copy() {
        let kind = InputKind::U8 {
            scale: 1.0 / 255.0,
            zero_point: 0,
        };
        assert!(matches!(
            InputLut::new(kind, Normalization::UNIT),
            InputLut::Identity
        ));
    }

    #[test]
    fn int8_follows_the_tensor_quantisation() {
        // int8, scale 1/255, zero point -128, trained on [0, 1]: pixel p -> p - 128.
        let lut = InputLut::new(
            InputKind::I8 {
                scale: 1.0 / 255.0,
                zero_point: -128,
            },
            Normalization::UNIT,
        );
        let mut t = [0u8; 3];
        lut.apply(&[0, 128, 255], &mut t);
        assert_eq!(t.map(|b| b as i8), [-128, 0, 127]);
        // A different scale really changes the mapping, and saturates instead of wrapping.
        let lut = InputLut::new(
            InputKind::I8 {
                scale: 1.0 / 128.0,
                zero_point: 0,
            },
            Normalization::UNIT,
        );
        lut.apply(&[0, 64, 255], &mut t);
        assert_eq!(t.map(|b| b as i8), [0, 32, 127]);
    }

    #[test]
    fn uint8_with_unusual_quantisation_is_remapped() {
        let lut = InputLut::new(
            InputKind::U8 {
                scale: 1.0 / 64.0,
                zero_point: 128,
            },
            Normalization::SIGNED_UNIT,
        );
        let mut t = [0u8; 3];
        lut.apply(&[0, 128, 255], &mut t);
        assert_eq!(t, [64, 128, 192]);
    }

    #[test]
    fn float_is_normalised() {
        let lut = InputLut::new(InputKind::F32, Normalization::UNIT);
        assert_eq!(lut.element_size(), 4);
        let mut t = [0u8; 12];
        lut.apply(&[0, 255, 51], &mut t);
        let v: Vec<f32> = t
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(v[0], 0.0);
        assert_eq!(v[1], 1.0);
        assert!((v[2] - 0.2).abs() < 1e-6);
    }
}
