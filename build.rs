//! Build info: the target triple and profile, baked into `srcimport --version`.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=SRCIMPORT_BUILD_TARGET={target}");
    println!("cargo:rustc-env=SRCIMPORT_BUILD_PROFILE={profile}");
    println!("cargo:rerun-if-changed=build.rs");
}
