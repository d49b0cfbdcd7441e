//! Starts the server: the allocator, then `glance_share::server::main` (settings -> state ->
//! router -> serve). Everything else is in the library, compiled once (see `server::main`).

#[cfg(feature = "ssr")]
mod allocator;

#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: allocator::Counted = allocator::Counted::new();

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    allocator::count_if_asked();
    glance_share::server::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {}
