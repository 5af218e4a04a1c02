//! Media files: the type told by their first bytes (never by the name or the browser's word),
//! their pixel size read from the header, and per-network rules that are data (DESIGN §3).

/// A media type relais accepts in the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Gif,
    Webp,
    Mp4,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Mp4 => "video/mp4",
        }
    }

    pub fn from_mime(m: &str) -> Option<Kind> {
        Some(match m {
            "image/jpeg" => Kind::Jpeg,
            "image/png" => Kind::Png,
            "image/gif" => Kind::Gif,
            "image/webp" => Kind::Webp,
            "video/mp4" => Kind::Mp4,
            _ => return None,
        })
    }

    pub fn is_video(self) -> bool {
        self == Kind::Mp4
    }

    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Gif => "gif",
            Kind::Webp => "webp",
            Kind::Mp4 => "mp4",
        }
    }
}

/// Bytes needed to tell the type and, for images, the size (JPEG may need more: see [`dimensions`]).
pub const SNIFF_LEN: usize = 64;

/// The type of a file from its first bytes; `None` for anything else (SVG, HTML, PDF…).
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(Kind::Gif)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" && is_mp4_brand(&head[8..12]) {
        Some(Kind::Mp4)
    } else {
        None
    }
}

fn is_mp4_brand(b: &[u8]) -> bool {
    const BRANDS: [&[u8; 4]; 8] = [
        b"isom", b"iso2", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    ];
    BRANDS.iter().any(|x| x.as_slice() == b)
}

/// Width and height in pixels from an image's header; `None` when it cannot be read (a
/// truncated or broken file). Videos: `None` (their size is not checked here).
pub fn dimensions(kind: Kind, data: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*data.get(i)?, *data.get(i + 1)?]) as u32);
    let be32 = |i: usize| Some(u32::from_be_bytes(data.get(i..i + 4)?.try_into().ok()?));
    let le24 = |i: usize| {
        let b = data.get(i..i + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    match kind {
        Kind::Png => Some((be32(16)?, be32(20)?)),
        Kind::Gif => Some((le16(6)?, le16(8)?)),
        Kind::Webp => match data.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" => {
                let b = data.get(21..25)?;
                let bits = u32::from_le_bytes(b.try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            _ => None,
        },
        Kind::Jpeg => {
            // Walk the segments to the first start-of-frame marker.
            let mut i = 2;
            while i + 9 < data.len() {
                if data[i] != 0xFF {
                    return None;
                }
                let marker = data[i + 1];
                if marker == 0xFF {
                    i += 1;
                    continue;
                }
                let len = be16(i + 2)? as usize;
                let sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
                if sof {
                    return Some((be16(i + 7)?, be16(i + 5)?));
                }
                i += 2 + len;
            }
            None
        }
        Kind::Mp4 => None,
    }
}

/// Pixel limits of a network's images (published by the networks; `None`: not documented).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimensions {
    /// Longest side accepted.
    pub max_side: Option<u32>,
    /// Shortest side accepted.
    pub min_side: Option<u32>,
    /// Most pixels (width × height).
    pub max_pixels: Option<u64>,
}

/// Image size rules per network name.
pub fn dimension_rules(network: &str) -> Dimensions {
    let d = |max_side, min_side, max_pixels| Dimensions {
        max_side,
        min_side,
        max_pixels,
    };
    match network {
        // Mastodon resizes above 8.3 MP (3840×2160) and refuses what it cannot process.
        "mastodon" => d(Some(8192), None, Some(33_177_600)),
        "bluesky" => d(Some(8000), None, None),
        "x" => d(Some(8192), Some(4), None),
        "instagram" => d(Some(1440 * 4), Some(320), None),
        "threads" => d(Some(8000), Some(320), None),
        "facebook" | "linkedin" => d(Some(8000), None, Some(36_152_320)),
        // Telegram: width + height at most 10,000 for a photo.
        "telegram" => d(Some(10_000), None, None),
        _ => d(None, None, None),
    }
}

/// What is wrong with an image of `w`×`h` on `network`, as (limit name, limit value).
pub fn check_dimensions(network: &str, w: u32, h: u32) -> Option<(&'static str, u64)> {
    let r = dimension_rules(network);
    let (long, short) = (w.max(h), w.min(h));
    if let Some(m) = r.max_side.filter(|m| long > *m) {
        return Some(("max_side", m.into()));
    }
    if let Some(m) = r.min_side.filter(|m| short < *m) {
        return Some(("min_side", m.into()));
    }
    if let Some(m) = r.max_pixels.filter(|m| u64::from(w) * u64::from(h) > *m) {
        return Some(("max_pixels", m));
    }
    if network == "telegram" && w + h > 10_000 {
        return Some(("max_side", 10_000));
    }
    None
}

/// Most videos per post and whether a video may sit beside images, per network, as far as
/// relais' connectors send them (Bluesky video embeds are not sent yet).
pub fn video_rule(network: &str) -> (usize, bool) {
    match network {
        "mastodon" => (4, true),
        "discord" => (10, true),
        _ => (0, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0,
    ];

    #[test]
    fn sniffs_by_content_not_name() {
        assert_eq!(sniff(PNG_1X1), Some(Kind::Png));
        assert_eq!(dimensions(Kind::Png, PNG_1X1), Some((3, 2)));
        assert_eq!(sniff(b"GIF89a\x05\x00\x07\x00"), Some(Kind::Gif));
        assert_eq!(
            dimensions(Kind::Gif, b"GIF89a\x05\x00\x07\x00"),
            Some((5, 7))
        );
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>"), None);
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42\0\0\0\0"), Some(Kind::Mp4));
        assert_eq!(sniff(b"\0\0\0\x18ftypqt  \0\0\0\0"), None);
        let webp = b"RIFF\x24\0\0\0WEBPVP8X\x0a\0\0\0\x10\0\0\0\x63\0\0\x31\0\0";
        assert_eq!(sniff(webp), Some(Kind::Webp));
        assert_eq!(dimensions(Kind::Webp, webp), Some((100, 50)));
        // SOI, APP0 (len 4), SOF0 with height 20, width 30.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0, 20, 0, 30, 3, 0, 0, 0,
        ];
        assert_eq!(sniff(&jpeg), Some(Kind::Jpeg));
        assert_eq!(dimensions(Kind::Jpeg, &jpeg), Some((30, 20)));
        assert_eq!(dimensions(Kind::Jpeg, &jpeg[..8]), None);
    }

    #[test]
    fn network_dimensions_are_data() {
        assert_eq!(check_dimensions("mastodon", 100, 100), None);
        assert_eq!(
            check_dimensions("instagram", 200, 800),
            Some(("min_side", 320))
        );
        assert_eq!(
            check_dimensions("bluesky", 9000, 10),
            Some(("max_side", 8000))
        );
        assert_eq!(
            check_dimensions("telegram", 6000, 6000),
            Some(("max_side", 10_000))
        );
    }
}
