//! The keywarden binary: parse the command line, start the server, report errors in one line.

use std::process::ExitCode;

use clap::Parser;
use keywarden::config::{rewrite_legacy_args, Cli, Command, Settings};
use keywarden::Application;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let args = match rewrite_legacy_args(std::env::args().collect()) {
        Ok(args) => args,
        Err(err) => return fail(&err),
    };
    let cli = Cli::try_parse_from(args).unwrap_or_else(|err| err.exit());
    match cli.command {
        Command::Export(args) => run_tool(keywarden::export_import::export(&args)),
        Command::Import(args) => run_tool(keywarden::export_import::import(&args)),
        Command::Backup(args) => run_tool(async move {
            let done = keywarden::backup::backup(&args).await?;
            println!("{done}");
            Ok(())
        }),
        Command::CopyDatabase(args) => run_tool(async move {
            for line in keywarden::copy_database::copy_database(&args).await? {
                println!("{line}");
            }
            Ok(())
        }),
        command => serve(Cli { command }),
    }
}

/// glibc gives threads that allocate at once their own malloc arenas (up to eight per core),
/// and memory freed in one stays there: with two, the resident set under load is about 6 MiB
/// lower at no cost in throughput (`bench/run.sh --only realistic`). `MALLOC_ARENA_MAX` in
/// the environment still decides when it is set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only tunes the allocator, and no other thread runs yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Runs `export`, `import`, `backup` or `copy-database` to its end; warnings and errors are logged.
fn run_tool(work: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new("warn,sqlx::query=error"))
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    match actix_web::rt::System::new().block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&format!("{err:#}")),
    }
}

fn serve(cli: Cli) -> ExitCode {
    let settings = match Settings::from_cli(cli, &|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(err) => return fail(&err),
    };
    let filter = match EnvFilter::try_new(&settings.log_level) {
        Ok(filter) => filter,
        Err(_) => return fail(&format!("invalid --log-level '{}'", settings.log_level)),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
    let runtime = actix_web::rt::System::new();
    match runtime.block_on(async {
        let application = Application::build(settings).await?;
        application.shutdown().on_signals()?;
        application.run_until_stopped().await?;
        anyhow::Ok(())
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&format!("{err:#}")),
    }
}

fn fail(message: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("keywarden: error: {message}");
    ExitCode::FAILURE
}
