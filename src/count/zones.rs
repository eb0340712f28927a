//! Zones: polygons in normalised image coordinates, each with its own occupancy.
//!
//! A person is in a zone when their foot point (bottom centre of their box) is inside the
//! polygon. Zones may overlap; a person can be in several. This module only answers "inside or
//! not"; it never keeps or logs a position.

/// A closed polygon (the last vertex joins the first), normalised 0..1, y down.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    vertices: Vec<(f32, f32)>,
}

impl Zone {
    pub fn new(vertices: impl IntoIterator<Item = (f32, f32)>) -> Self {
        Self {
            vertices: vertices.into_iter().collect(),
        }
    }

    /// Whether `p` is inside (even-odd rule; points exactly on an edge may go either way).
    pub fn contains(&self, p: (f32, f32)) -> bool {
        let v = &self.vertices;
        if v.len() < 3 {
            return false;
        }
        let mut inside = false;
        let mut j = v.len() - 1;
        for i in 0..v.len() {
            let (a, b) = (v[i], v[j]);
            if (a.1 > p.1) != (b.1 > p.1) {
                let x = a.0 + (p.1 - a.1) * (b.0 - a.0) / (b.1 - a.1);
                if p.0 < x {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_and_concave_polygons() {
        let square = Zone::new([(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)]);
        assert!(square.contains((0.3, 0.3)));
        assert!(!square.contains((0.6, 0.3)));
        assert!(!square.contains((0.3, 0.05)));
        // An L shape: the notch at the top right is outside.
        let l = Zone::new([
            (0.0, 0.0),
            (0.4, 0.0),
            (0.4, 0.6),
            (1.0, 0.6),
            (1.0, 1.0),
            (0.0, 1.0),
        ]);
        assert!(l.contains((0.2, 0.2)));
        assert!(l.contains((0.8, 0.8)));
        assert!(!l.contains((0.8, 0.3)));
        assert!(!Zone::new([(0.0, 0.0), (1.0, 1.0)]).contains((0.5, 0.5)));
    }
}
