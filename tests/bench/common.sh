# Shared by the benchmark scripts: messages, tools from Debian, and the release build.
# Source it after setting ROOT (the repository); it sets TARGET (the cargo target directory).

say() { printf '%s\n' "$*" >&2; }
die() { say "$(basename "$0"): $*"; exit 1; }

need_tool() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing $2 (for $1)…"
    if [ "$(id -u)" = 0 ]; then
        (apt-get install -y -q "$2" >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$2" >/dev/null; }) ||
            die "cannot install $2"
    else
        die "$1 is missing: apt-get install $2"
    fi
}

# The release binaries, built unless SKIP_BUILD is set; honours CARGO_TARGET_DIR.
build_release() {
    TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
    case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
    if [ -z "${SKIP_BUILD:-}" ]; then
        say "building release (cargo build --release -p kongjian -p kongjian-e2e)…"
        (cd "$ROOT" && cargo build --release -p kongjian -p kongjian-e2e) >&2
    fi
}
