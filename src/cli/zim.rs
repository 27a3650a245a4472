//! `hoclieu zim FILE`: checks a ZIM file whole, as the server does before it trusts one, and
//! prints what it holds.

use std::process::ExitCode;

use crate::cli::args::ZimArgs;
use crate::zim::{Archive, Target, ZimError};

/// Runs `hoclieu zim`.
pub fn check(args: ZimArgs) -> anyhow::Result<ExitCode> {
    match describe(&args) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("{}: {e}", args.file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn describe(args: &ZimArgs) -> Result<(), ZimError> {
    let zim = if !args.ranges.is_empty() {
        Archive::open_ranges(&args.file, &args.ranges)?
    } else if args.offset > 0 {
        Archive::open_embedded(&args.file, args.offset, None)?
    } else {
        Archive::open(&args.file)?
    };
    let checked = zim.verify(|_, _| {})?;
    let meta = |k: &str| zim.metadata(k).ok().flatten().unwrap_or_default();
    println!("title: {}", meta("Title"));
    println!("language: {}", meta("Language"));
    println!("description: {}", meta("Description"));
    println!(
        "layout: {}",
        if zim.new_layout() {
            "new (no namespaces)"
        } else {
            "old (namespaces)"
        }
    );
    println!("parts: {}", zim.paths().len());
    println!(
        "entries: {} ({} with content, {} redirects), clusters: {}, checksum: {}",
        checked.entries,
        checked.items,
        checked.redirects,
        checked.clusters,
        if checked.checksum { "matches" } else { "none" }
    );
    if let Some(main) = zim.main_page()? {
        println!("main page: {}", zim.url_path(&zim.dirent(main)?));
    }
    let articles = zim.articles()?;
    println!("articles: {}", articles.len());
    if args.read_all {
        let mut bytes = 0u64;
        for k in 0..articles.len() {
            let (_, d) = zim.resolve(zim.article(&articles, k)?)?;
            if let Target::Item { cluster, blob, .. } = d.target {
                bytes += zim.blob(cluster, blob)?.len();
            }
        }
        println!("article bytes: {bytes}");
    }
    if args.list {
        for k in 0..articles.len() {
            let d = zim.dirent(zim.article(&articles, k)?)?;
            let title = String::from_utf8_lossy(&d.title).replace(['\t', '\n'], " ");
            println!("{}\t{title}", zim.url_path(&d));
        }
    }
    Ok(())
}
