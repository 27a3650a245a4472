//! The four fields of the library (agriculture, health, law, life skills): their slugs in
//! addresses and files, and their Vietnamese names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The four fields of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Nông nghiệp.
    Agriculture,
    /// Sức khỏe.
    Health,
    /// Pháp luật.
    Law,
    /// Kỹ năng sống.
    LifeSkills,
}

impl Category {
    /// All fields, in the order the home page shows them.
    pub const ALL: [Category; 4] = [
        Category::Agriculture,
        Category::Health,
        Category::Law,
        Category::LifeSkills,
    ];

    /// The slug used in files, URLs and the API.
    pub fn slug(self) -> &'static str {
        match self {
            Category::Agriculture => "agriculture",
            Category::Health => "health",
            Category::Law => "law",
            Category::LifeSkills => "life-skills",
        }
    }

    /// The Vietnamese name shown to readers.
    pub fn name_vi(self) -> &'static str {
        match self {
            Category::Agriculture => "Nông nghiệp",
            Category::Health => "Sức khỏe",
            Category::Law => "Pháp luật",
            Category::LifeSkills => "Kỹ năng sống",
        }
    }

    /// A one-line Vietnamese description for the home page.
    pub fn blurb_vi(self) -> &'static str {
        match self {
            Category::Agriculture => "Trồng trọt, chăn nuôi, giữ rừng, bán nông sản",
            Category::Health => "Phòng bệnh, mẹ và bé, sơ cứu, bảo hiểm y tế",
            Category::Law => "Đất đai, hôn nhân, giấy tờ, quyền của bạn",
            Category::LifeSkills => "Đọc viết, tiền bạc, an toàn, thiên tai",
        }
    }

    /// Whom to ask when a material's facts may have changed, in a material's closing line.
    pub fn ask_vi(self) -> &'static str {
        match self {
            Category::Agriculture => {
                "Giống, thuốc và lịch thời vụ có thể thay đổi: hãy hỏi lại cán bộ khuyến nông, thú y xã khi cần."
            }
            Category::Health => {
                "Hướng dẫn điều trị và lịch tiêm có thể thay đổi: hãy hỏi lại trạm y tế xã khi cần."
            }
            Category::Law => {
                "Luật và chế độ có thể thay đổi: hãy hỏi lại cán bộ tư pháp xã khi cần."
            }
            Category::LifeSkills => "Thông tin có thể thay đổi: hãy hỏi lại cán bộ xã khi cần.",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// The text is not one of the four category slugs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category")]
pub struct UnknownCategory;

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.slug() == s.trim())
            .ok_or(UnknownCategory)
    }
}
