//! Preprocessing: RGB24 pixels (already at the model's input size) into the input tensor.
//!
//! The mapping from a pixel value to the tensor's element is read from the model's own input
//! tensor: its type and quantisation parameters. It is computed once into a 256-entry lookup
//! table, so the per-frame work is one table lookup per byte, with no allocation. Writes only
//! into the interpreter's input tensor; never copies a frame anywhere else.

/// The element type of a model's image input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InputKind {
    /// uint8 with quantisation (scale, zero point); a pixel value is the quantised value.
    U8,
    /// int8 with quantisation; a pixel value p becomes p - 128.
    I8,
    /// float32: a pixel value p becomes lo + p * (hi - lo) / 255.
    F32 { lo: f32, hi: f32 },
}

/// A precomputed pixel → tensor-element table.
#[derive(Debug, Clone)]
pub enum InputLut {
    U8([u8; 256]),
    I8([i8; 256]),
    F32(Box<[f32; 256]>),
}

impl InputLut {
    /// Builds the table for `kind`. For quantised inputs the pixel range 0..=255 is mapped onto
    /// the full quantised range, which is how quantised image models are trained and exported
    /// (uint8: identity; int8: shifted by 128). The quantisation scale and zero point then say
    /// which real values those are; the network already folded them in.
    pub fn new(kind: InputKind) -> Self {
        match kind {
            InputKind::U8 => InputLut::U8(std::array::from_fn(|p| p as u8)),
            InputKind::I8 => InputLut::I8(std::array::from_fn(|p| (p as i16 - 128) as i8)),
            InputKind::F32 { lo, hi } => InputLut::F32(Box::new(std::array::from_fn(|p| {
                lo + p as f32 * (hi - lo) / 255.0
            }))),
        }
    }

    /// Bytes per tensor element.
    pub fn element_size(&self) -> usize {
        match self {
            InputLut::U8(_) | InputLut::I8(_) => 1,
            InputLut::F32(_) => 4,
        }
    }

    /// Writes `rgb` into `tensor` (raw bytes of the input tensor, native endianness).
    /// `tensor.len()` must be `rgb.len() * element_size()`.
    pub fn apply(&self, rgb: &[u8], tensor: &mut [u8]) {
        match self {
            InputLut::U8(_) => tensor.copy_from_slice(rgb),
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
    fn uint8_is_identity() {
        let lut = InputLut::new(InputKind::U8);
        let rgb = [0u8, 127, 128, 255];
        let mut t = [9u8; 4];
        lut.apply(&rgb, &mut t);
        assert_eq!(t, rgb);
    }

    #[test]
    fn int8_is_shifted() {
        let lut = InputLut::new(InputKind::I8);
        let mut t = [0u8; 3];
        lut.apply(&[0, 128, 255], &mut t);
        assert_eq!(t.map(|b| b as i8), [-128, 0, 127]);
    }

    #[test]
    fn float_maps_onto_the_range() {
        let lut = InputLut::new(InputKind::F32 { lo: -1.0, hi: 1.0 });
        assert_eq!(lut.element_size(), 4);
        let mut t = [0u8; 12];
        lut.apply(&[0, 255, 51], &mut t);
        let v: Vec<f32> = t
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(v[0], -1.0);
        assert_eq!(v[1], 1.0);
        assert!((v[2] - (-0.6)).abs() < 1e-6);
    }
}
