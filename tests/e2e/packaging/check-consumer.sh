#!/usr/bin/env bash
# The installed tree on its own. Installs the build tree into a temporary prefix, then:
#  1. every file is installed once (no two install rules for the same file);
#  2. the installed programs run with a clean environment (no LD_LIBRARY_PATH): they find
#     libparley through their own RPATH, wherever the prefix is;
#  3. a separate project builds against the prefix with find_package(Parley) while the CMake
#     packages of Qt Network and Qt WebSockets cannot be found (they are private dependencies of
#     libparley: an embedder needs Qt Core's development files only), and runs.
set -euo pipefail
build_dir="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
fail() {
    echo "check-consumer: $*" >&2
    exit 1
}

cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log"

# 1. The manifest lists each installed file once per rule that installed it.
manifest="$build_dir/install_manifest.txt"
[[ -s "$manifest" ]] || fail "no install manifest at $manifest"
duplicates="$(sort "$manifest" | uniq -d)"
[[ -z "$duplicates" ]] || fail "installed more than once: $duplicates"
[[ "$(grep -c '/bin/parleyd$' "$manifest")" == 1 ]] || fail "parleyd is not installed exactly once"

# 2. No LD_LIBRARY_PATH, nothing from the caller's environment.
clean=(env -i PATH=/usr/bin:/bin HOME="$work")
for program in parley parleyd; do
    [[ -x "$prefix/bin/$program" ]] || fail "$program is not installed"
    "${clean[@]}" "$prefix/bin/$program" --help >"$work/$program.help" 2>&1 \
        || fail "$prefix/bin/$program --help failed: $(cat "$work/$program.help")"
done
for program in "$prefix"/bin/*; do
    if "${clean[@]}" ldd "$program" 2>/dev/null | grep -q 'not found'; then
        fail "$program does not find its libraries: $("${clean[@]}" ldd "$program" | grep 'not found')"
    fi
done

# 3. Hide the Qt packages libparley links privately (as if their -dev packages were absent):
# their directories, under every name find_package may reach them by (with merged /usr,
# /lib/<arch>/cmake/X is /usr/lib/<arch>/cmake/X, and /lib is searched as the prefix of /bin).
# The consumer checks that they cannot be found.
hidden=()
for package in Qt6Network Qt6WebSockets; do
    dir="$(sed -n "s/^${package}_DIR:PATH=//p" "$build_dir/CMakeCache.txt")"
    [[ -n "$dir" && -d "$dir" ]] || fail "cannot tell where $package's CMake package is"
    for alias in "$dir" "$(realpath "$dir")" "${dir#/usr}"; do
        [[ -d "$alias" ]] && hidden+=("$alias")
    done
done
ignore="$(IFS=';'; echo "${hidden[*]}")"
cmake -S "$here/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_IGNORE_PATH="$ignore" -DCONSUMER_HIDDEN_PACKAGES="Qt6Network;Qt6WebSockets" \
    >"$work/configure.log" 2>&1 || fail "find_package(Parley) failed: $(cat "$work/configure.log")"
cmake --build "$work/build" >"$work/build.log" 2>&1 || fail "build failed: $(cat "$work/build.log")"
"${clean[@]}" QT_QPA_PLATFORM=offscreen "$work/build/consumer"
