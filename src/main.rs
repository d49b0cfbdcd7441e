//! Starts the server: configuration -> state -> router -> serve.

#[cfg(feature = "ssr")]
mod allocator;

#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: allocator::Counted = allocator::Counted::new();

/// One thread for starting up, signals and the chores that run beside the requests (expired
/// sessions, sign-in counters); requests are served on threads of their own (`serving`).
#[cfg(feature = "ssr")]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    allocator::count_if_asked();
    glance_share::telemetry::init();
    let leptos = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(e) => {
            tracing::error!("Leptos settings are not valid: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let config = match glance_share::config::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match glance_share::server::run(config, leptos).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {}
