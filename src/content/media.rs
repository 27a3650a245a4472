//! How long a recording or a video lasts, read from its container's headers with symphonia
//! (MP3, M4A/MP4, OGG, WAV), so a villager sees "Nghe (12 phút)" before spending data on it.
//! Only headers are read; a file it cannot tell gives no duration, never an error.

use std::io::Cursor;

use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::source::Blob;

/// The length of a recording or video in whole seconds, if its headers say.
pub fn duration_secs(blob: Blob, name: &str) -> Option<u64> {
    let source: Box<dyn MediaSource> = match blob {
        Blob::File(f) => Box::new(f),
        Blob::Memory { data, .. } => Box::new(Cursor::new(data.into_owned())),
    };
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = name.rsplit_once('.').map(|(_, e)| e) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .ok()?;
    let track = probed.format.default_track()?;
    let params = &track.codec_params;
    let frames = params.n_frames?;
    let secs = match (params.time_base, params.sample_rate) {
        (Some(tb), _) => {
            let t = tb.calc_time(frames);
            t.seconds + u64::from(t.frac >= 0.5)
        }
        (None, Some(rate)) if rate > 0 => (frames + u64::from(rate) / 2) / u64::from(rate),
        _ => return None,
    };
    (secs > 0).then_some(secs)
}

/// A duration as a reader says it: "45 giây", "3 phút 20 giây", "1 giờ 5 phút".
pub fn spoken(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} giây"),
        (0, m, 0) => format!("{m} phút"),
        (0, m, s) => format!("{m} phút {s} giây"),
        (h, 0, _) => format!("{h} giờ"),
        (h, m, _) => format!("{h} giờ {m} phút"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono 8 kHz 16-bit WAV of `secs` seconds of silence.
    pub fn wav(secs: u32) -> Vec<u8> {
        let rate = 8000u32;
        let data = rate * 2 * secs;
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes()); // PCM
        v.extend_from_slice(&1u16.to_le_bytes()); // mono
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * 2).to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data.to_le_bytes());
        v.resize(v.len() + data as usize, 0);
        v
    }

    #[test]
    fn reads_a_recording_length_and_says_it() {
        let blob = Blob::Memory {
            data: std::borrow::Cow::Owned(wav(200)),
            sha256: [0; 32],
        };
        assert_eq!(duration_secs(blob, "bai-giang.wav"), Some(200));
        assert_eq!(spoken(200), "3 phút 20 giây");
        assert_eq!(spoken(45), "45 giây");
        assert_eq!(spoken(600), "10 phút");
        assert_eq!(spoken(3900), "1 giờ 5 phút");
        let junk = Blob::Memory {
            data: std::borrow::Cow::Owned(b"not a recording".to_vec()),
            sha256: [0; 32],
        };
        assert_eq!(duration_secs(junk, "x.mp3"), None);
    }
}
