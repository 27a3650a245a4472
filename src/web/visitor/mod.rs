//! What villagers open: the home page and fields, materials and their files, search, lessons,
//! the "about you" page and the wall poster.

pub mod home;
pub mod lesson;
pub mod material;
pub mod poster;
pub mod profile;
pub mod search;
pub mod static_files;
