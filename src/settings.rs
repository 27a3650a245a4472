//! The box's settings in one place: built-in defaults, then the TOML file, then `HOCLIEU_*`
//! environment variables, then command-line flags, each overriding the one before.
//! `hoclieu config` prints the result and where each value came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the settings file is looked for when none is named.
pub const DEFAULT_FILE: &str = "/etc/hoclieu/hoclieu.toml";

/// Errors while reading settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The named file cannot be read.
    #[error("cannot read settings file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("settings file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (with the line).
        message: String,
    },
    /// An environment variable or flag has an unusable value.
    #[error("{name}: {message}")]
    Value {
        /// The variable or flag.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// The groups offered when the settings name none: those of Lai Châu's mountain districts.
pub const DEFAULT_ETHNIC_GROUPS: &[&str] = &[
    "Kinh", "Thái", "Mông", "Dao", "Hà Nhì", "Giáy", "La Hủ", "Lự", "Khơ Mú", "Kháng", "Mảng",
    "Cống", "Si La", "Tày", "Nùng", "Phù Lá", "Lào", "Lô Lô",
];

/// The effective settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The centre's name, on pages, the poster and reports.
    pub centre: String,
    /// Commune (xã), on the poster and reports.
    pub commune: String,
    /// District (huyện) or province, on the poster and reports.
    pub district: String,
    /// Province (tỉnh), carried in the summaries for a province's or the nation's roll-up.
    pub province: String,
    /// The name of the centre's Wi-Fi network, printed on the poster (empty: not printed).
    pub wifi: String,
    /// The ethnic groups the "about you" page offers, by name, in order ("another group" is
    /// always added); reports list the same groups.
    pub ethnic_groups: Vec<String>,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Library folder used instead of the built-in starter library.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<PathBuf>,
    /// Folder for the index, the usage log, lessons and the centre's own materials.
    pub data: PathBuf,
    /// Days raw usage events are kept (daily totals are kept for good).
    pub retention_days: i64,
    /// Announce `hoclieu.local` on the network (mDNS).
    pub mdns: bool,
    /// A centre's box, or the district office's (which imports the centres' summaries).
    pub role: Role,
    /// The district office's box, when it can be reached on a network
    /// (`http://192.168.1.10:8080`): summaries can then be sent with one button. Empty: by
    /// USB stick only.
    pub district_url: String,
}

/// What the box is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A community learning centre: serves the library, counts participation.
    #[default]
    Centre,
    /// The district office: also imports and rolls up the centres' summaries.
    District,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "centre" | "center" => Ok(Role::Centre),
            "district" => Ok(Role::District),
            other => Err(format!("unknown role {other:?} (centre or district)")),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            centre: "Trung tâm học tập cộng đồng".into(),
            commune: String::new(),
            district: String::new(),
            province: String::new(),
            wifi: String::new(),
            ethnic_groups: DEFAULT_ETHNIC_GROUPS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            library: None,
            data: PathBuf::from("hoclieu-data"),
            retention_days: 730,
            mdns: true,
            role: Role::Centre,
            district_url: String::new(),
        }
    }
}

/// Some settings, each possibly missing: one layer (the file, the environment or the flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// See [`Settings::centre`].
    pub centre: Option<String>,
    /// See [`Settings::commune`].
    pub commune: Option<String>,
    /// See [`Settings::district`].
    pub district: Option<String>,
    /// See [`Settings::province`].
    pub province: Option<String>,
    /// See [`Settings::wifi`].
    pub wifi: Option<String>,
    /// See [`Settings::ethnic_groups`].
    pub ethnic_groups: Option<Vec<String>>,
    /// See [`Settings::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`Settings::library`].
    pub library: Option<PathBuf>,
    /// See [`Settings::data`].
    pub data: Option<PathBuf>,
    /// See [`Settings::retention_days`].
    pub retention_days: Option<i64>,
    /// See [`Settings::mdns`].
    pub mdns: Option<bool>,
    /// See [`Settings::role`].
    pub role: Option<Role>,
    /// See [`Settings::district_url`].
    pub district_url: Option<String>,
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Built in.
    Default,
    /// The settings file.
    File,
    /// A `HOCLIEU_*` variable.
    Env,
    /// A command-line flag.
    Flag,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::File => "settings file",
            Origin::Env => "environment",
            Origin::Flag => "command line",
        }
    }
}

/// Settings with the origin of each value, and the file read (if any).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The values.
    pub settings: Settings,
    /// `(key, origin)` for every key, in file order.
    pub origins: Vec<(&'static str, Origin)>,
    /// The settings file that was read.
    pub file: Option<PathBuf>,
}

/// Reads the environment layer through `var` (the real environment, or a map in tests).
pub fn env_layer(var: impl Fn(&str) -> Option<String>) -> Result<Layer, SettingsError> {
    fn parsed<T: std::str::FromStr>(
        name: &str,
        v: Option<String>,
    ) -> Result<Option<T>, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        v.filter(|s| !s.is_empty())
            .map(|s| {
                s.trim().parse().map_err(|e: T::Err| SettingsError::Value {
                    name: name.to_string(),
                    message: e.to_string(),
                })
            })
            .transpose()
    }
    let text = |name: &str| var(name).filter(|s| !s.is_empty());
    Ok(Layer {
        centre: text("HOCLIEU_CENTRE"),
        commune: text("HOCLIEU_COMMUNE"),
        district: text("HOCLIEU_DISTRICT"),
        province: text("HOCLIEU_PROVINCE"),
        wifi: text("HOCLIEU_WIFI"),
        // Comma-separated, as on a command line: HOCLIEU_ETHNIC_GROUPS="Mông, Dao, Thái".
        ethnic_groups: text("HOCLIEU_ETHNIC_GROUPS").map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }),
        listen: parsed("HOCLIEU_LISTEN", var("HOCLIEU_LISTEN"))?,
        library: text("HOCLIEU_LIBRARY").map(PathBuf::from),
        data: text("HOCLIEU_DATA").map(PathBuf::from),
        retention_days: parsed("HOCLIEU_RETENTION_DAYS", var("HOCLIEU_RETENTION_DAYS"))?,
        mdns: parsed("HOCLIEU_MDNS", var("HOCLIEU_MDNS"))?,
        role: parsed("HOCLIEU_ROLE", var("HOCLIEU_ROLE"))?,
        district_url: text("HOCLIEU_DISTRICT_URL"),
    })
}

/// Reads a settings file.
pub fn file_layer(path: &Path) -> Result<Layer, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| SettingsError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The settings file to read: the one named (flag, then `HOCLIEU_CONFIG`), or the default
/// file if it exists. A named file must exist; the default one may not.
pub fn settings_file(
    named: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    named
        .map(Path::to_path_buf)
        .or_else(|| {
            env("HOCLIEU_CONFIG")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.exists()))
}

/// Merges the layers: defaults, then `file`, then `env`, then `flags`.
pub fn resolve(file: Option<(&Path, Layer)>, env: Layer, flags: Layer) -> Resolved {
    let mut s = Settings::default();
    let mut origins = Vec::new();
    let path = file.as_ref().map(|(p, _)| p.to_path_buf());
    let empty = Layer::default();
    let layers = [
        (Origin::File, file.as_ref().map_or(&empty, |(_, l)| l)),
        (Origin::Env, &env),
        (Origin::Flag, &flags),
    ];
    macro_rules! merge {
        ($key:ident) => {{
            let mut origin = Origin::Default;
            for (o, layer) in &layers {
                if let Some(v) = &layer.$key {
                    s.$key = v.clone();
                    origin = *o;
                }
            }
            origins.push((stringify!($key), origin));
        }};
    }
    merge!(centre);
    merge!(commune);
    merge!(district);
    merge!(province);
    merge!(wifi);
    merge!(ethnic_groups);
    merge!(listen);
    let mut library_origin = Origin::Default;
    for (o, layer) in &layers {
        if let Some(v) = &layer.library {
            s.library = Some(v.clone());
            library_origin = *o;
        }
    }
    origins.push(("library", library_origin));
    merge!(data);
    merge!(retention_days);
    merge!(mdns);
    merge!(role);
    merge!(district_url);
    Resolved {
        settings: s,
        origins,
        file: path,
    }
}

impl Resolved {
    /// The settings as a TOML file, each key commented with where it came from.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(&self.settings).unwrap_or_default();
        let mut out = String::new();
        match &self.file {
            Some(f) => out.push_str(&format!("# settings file: {}\n", f.display())),
            None => out.push_str("# no settings file\n"),
        }
        for line in body.lines() {
            let key = line.split('=').next().unwrap_or("").trim();
            match self.origins.iter().find(|(k, _)| *k == key) {
                Some((_, o)) => out.push_str(&format!("{line}  # {}\n", o.describe())),
                None => out.push_str(&format!("{line}\n")),
            }
        }
        if self.settings.library.is_none() {
            out.push_str("# library: the built-in starter library\n");
        }
        out
    }

    /// Checks values that parse but cannot work.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.settings.retention_days < 400 {
            // A report compares a year with the one before: keep at least that.
            return Err(SettingsError::Value {
                name: "retention_days".into(),
                message: "must be at least 400 (a year and its previous period)".into(),
            });
        }
        if self.settings.centre.trim().is_empty() {
            return Err(SettingsError::Value {
                name: "centre".into(),
                message: "must not be empty".into(),
            });
        }
        let url = self.settings.district_url.trim();
        if !url.is_empty() && (!url.starts_with("http://") || url.parse::<http::Uri>().is_err()) {
            return Err(SettingsError::Value {
                name: "district_url".into(),
                message: format!("{url:?} is not an address like http://192.168.1.10:8080"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn flags_beat_environment_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hoclieu.toml");
        std::fs::write(
            &path,
            "centre = \"TTHTCĐ xã Nậm Dẩn\"\ncommune = \"Nậm Dẩn\"\nlisten = \"0.0.0.0:80\"\ndata = \"/var/lib/hoclieu\"\nretention_days = 1000\n",
        )
        .unwrap();
        let file = file_layer(&path).unwrap();
        let env = env_layer(env(&[
            ("HOCLIEU_LISTEN", "0.0.0.0:8081"),
            ("HOCLIEU_DATA", "/srv/hl"),
        ]))
        .unwrap();
        let flags = Layer {
            data: Some("/mnt/usb/hl".into()),
            ..Layer::default()
        };
        let r = resolve(Some((&path, file)), env, flags);
        let s = &r.settings;
        assert_eq!(s.centre, "TTHTCĐ xã Nậm Dẩn");
        assert_eq!(s.commune, "Nậm Dẩn");
        assert_eq!(s.district, "");
        assert_eq!(s.listen, "0.0.0.0:8081".parse().unwrap());
        assert_eq!(s.data, PathBuf::from("/mnt/usb/hl"));
        assert_eq!(s.retention_days, 1000);
        assert!(s.mdns);
        let origin = |k: &str| r.origins.iter().find(|(key, _)| *key == k).unwrap().1;
        assert_eq!(origin("centre"), Origin::File);
        assert_eq!(origin("listen"), Origin::Env);
        assert_eq!(origin("data"), Origin::Flag);
        assert_eq!(origin("mdns"), Origin::Default);
        let text = r.to_toml();
        assert!(
            text.contains("listen = \"0.0.0.0:8081\"  # environment"),
            "{text}"
        );
        assert!(
            text.contains("data = \"/mnt/usb/hl\"  # command line"),
            "{text}"
        );
        r.validate().unwrap();
    }

    #[test]
    fn bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hoclieu.toml");
        std::fs::write(&path, "centre = \"x\"\nport = 80\n").unwrap();
        let e = file_layer(&path).unwrap_err().to_string();
        assert!(e.contains("port"), "{e}");
        let e = env_layer(env(&[("HOCLIEU_LISTEN", "cổng 80")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("HOCLIEU_LISTEN"), "{e}");
        let e = env_layer(env(&[("HOCLIEU_MDNS", "có")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("HOCLIEU_MDNS"), "{e}");
        let r = resolve(
            None,
            Layer::default(),
            Layer {
                retention_days: Some(30),
                ..Layer::default()
            },
        );
        assert!(r.validate().is_err());
    }

    #[test]
    fn the_named_file_wins_and_must_exist() {
        let named = settings_file(
            Some(Path::new("/x/a.toml")),
            env(&[("HOCLIEU_CONFIG", "/y/b.toml")]),
        );
        assert_eq!(named, Some(PathBuf::from("/x/a.toml")));
        let from_env = settings_file(None, env(&[("HOCLIEU_CONFIG", "/y/b.toml")]));
        assert_eq!(from_env, Some(PathBuf::from("/y/b.toml")));
        assert!(file_layer(Path::new("/y/b.toml")).is_err());
    }
}
