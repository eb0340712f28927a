//! Stream URLs made safe to show: credentials (`user:password@`) replaced, so a URL can appear in
//! logs, errors and the privacy report. Must never return the password.

/// Removes `user:password@` from a URL so it can be logged and shown in errors.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Some((_, host)) = authority.rsplit_once('@') {
            return format!("{scheme}://***@{host}{path}");
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            redact_url("rtsp://admin:secret@10.0.0.5:554/stream1"),
            "rtsp://***@10.0.0.5:554/stream1"
        );
        assert_eq!(redact_url("rtsp://cam/x"), "rtsp://cam/x");
        assert_eq!(redact_url("clip.mp4"), "clip.mp4");
    }
}
