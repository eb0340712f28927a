//! A constant-velocity Kalman filter over one coordinate, the tracker's motion model.
//!
//! Pure arithmetic on numbers the tracker gives it; it must never see, keep or log anything else.

/// One coordinate under a constant-velocity model: position, velocity and their covariance.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// Position.
    pub p: f32,
    /// Velocity (units per second).
    pub v: f32,
    p00: f32,
    p01: f32,
    p11: f32,
    /// Process noise: variance of the acceleration (units²/s⁴ of normalised coordinates).
    q: f32,
    /// Measurement noise variance.
    r: f32,
}

impl Axis {
    pub fn new(p: f32, q: f32, r: f32) -> Self {
        Self {
            p,
            v: 0.0,
            p00: r,
            p01: 0.0,
            p11: 0.25,
            q,
            r,
        }
    }

    pub fn predict(&mut self, dt: f32) {
        self.p += self.v * dt;
        let (dt2, dt3) = (dt * dt, dt * dt * dt);
        let p00 = self.p00 + dt * (2.0 * self.p01 + dt * self.p11) + self.q * dt3 / 3.0;
        let p01 = self.p01 + dt * self.p11 + self.q * dt2 / 2.0;
        let p11 = self.p11 + self.q * dt;
        (self.p00, self.p01, self.p11) = (p00, p01, p11);
    }

    pub fn update(&mut self, z: f32) {
        let s = self.p00 + self.r;
        let (k0, k1) = (self.p00 / s, self.p01 / s);
        let y = z - self.p;
        self.p += k0 * y;
        self.v += k1 * y;
        let (p00, p01, p11) = (self.p00, self.p01, self.p11);
        self.p00 = (1.0 - k0) * p00;
        self.p01 = (1.0 - k0) * p01;
        self.p11 = p11 - k1 * p01;
    }
}
