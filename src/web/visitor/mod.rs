//! What villagers open: the home page and fields, materials and their files, search, lessons,
//! the "about you" page, the wall poster and a lesson's projector page.

pub mod collection;
pub mod home;
pub mod lesson;
pub mod material;
pub mod poster;
pub mod profile;
pub mod projector;
pub mod search;
pub mod static_files;
