//! `hoclieu admin`: the staff accounts of /admin from the command line: set a password
//! (creating the account), list the accounts, remove one.

use std::process::ExitCode;

use anyhow::Context;

use crate::accounts::{self, Role};
use crate::cli::args::{AdminCommand, Place, RemoveArgs, RoleArg, SetPasswordArgs};
use crate::usage::store::Store;

/// Runs `hoclieu admin ...`.
pub fn run(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::SetPassword(args) => set_password(args),
        AdminCommand::List(place) => list(&place),
        AdminCommand::Remove(args) => remove(args),
    }
}

fn set_password(args: SetPasswordArgs) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, IsTerminal};
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Mật khẩu mới cho {}: ", args.user))?;
        let second = rpassword::prompt_password("Nhập lại mật khẩu: ")?;
        anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    let store = open_store(&args.place.settings()?.data)?;
    let role = match args.role {
        RoleArg::Manager => Role::Manager,
        RoleArg::Teacher => Role::Teacher,
    };
    accounts::set_password(
        store.conn(),
        &args.user,
        &password,
        role,
        crate::clock::now_ms(),
    )?;
    println!(
        "Password set for {} ({}). Log in at /admin.",
        args.user,
        role.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

fn open_store(data: &std::path::Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    Store::open(data).with_context(|| format!("opening the database in {}", data.display()))
}

fn list(place: &Place) -> anyhow::Result<ExitCode> {
    let store = open_store(&place.settings()?.data)?;
    for a in accounts::list(store.conn())? {
        println!("{}\t{}", a.username, a.role.as_str());
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(args: RemoveArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.place.settings()?.data)?;
    accounts::remove(store.conn(), &args.user)?;
    println!("Removed {}.", args.user);
    Ok(ExitCode::SUCCESS)
}
