#!/usr/bin/env bash
# Installs saliencyd as a systemd service, or removes it (docs/deploy.md).
#
#   sudo deploy/install.sh              build (release), install, enable and start saliencyd.service
#   sudo deploy/install.sh --uninstall  stop and remove units, binary, model and docs; keep /etc/saliencyd
#   sudo deploy/install.sh --uninstall --purge   also remove /etc/saliencyd and the state directories
#   deploy/install.sh --dry-run         print what it would do, change nothing (no root needed)
#
# Idempotent: running it again reinstalls the binary, units and model, restarts what runs, and never
# overwrites an existing /etc/saliencyd/saliencyd.toml.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: deploy/install.sh [options]

Options:
  --prefix DIR     install the binary to DIR/bin, the model to DIR/share/saliencyd/models and the
                   docs and example configurations to DIR/share/doc/saliencyd (default /usr/local)
  --unit-dir DIR   where the systemd units go (default /etc/systemd/system)
  --destdir DIR    stage everything below DIR (for packaging or testing); implies --no-systemctl
  --binary FILE    install this saliencyd binary (default .build/release/saliencyd; implies --skip-build)
  --skip-build     do not run `swift build -c release --product saliencyd`
  --no-enable      install only: do not enable or (re)start the service
  --no-systemctl   do not call systemctl at all
  --uninstall      stop and disable the units and remove what install put in place, except the
                   configuration in /etc/saliencyd
  --purge          with --uninstall: also remove /etc/saliencyd and the state directories
  --dry-run        print the commands instead of running them
  -h, --help       this text

Environment: SWIFT (default swift), SWIFT_BUILD_FLAGS (extra flags for swift build, e.g.
--static-swift-stdlib for a binary that does not need the Swift toolchain at run time).
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=/usr/local
unit_dir=/etc/systemd/system
config_dir=/etc/saliencyd
destdir=""
binary=""
build=1
enable=1
use_systemctl=1
uninstall=0
purge=0
dry_run=0

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=${2:?--prefix needs a directory}; shift ;;
        --prefix=*) prefix=${1#*=} ;;
        --unit-dir) unit_dir=${2:?--unit-dir needs a directory}; shift ;;
        --unit-dir=*) unit_dir=${1#*=} ;;
        --destdir) destdir=${2:?--destdir needs a directory}; shift ;;
        --destdir=*) destdir=${1#*=} ;;
        --binary) binary=${2:?--binary needs a file}; build=0; shift ;;
        --binary=*) binary=${1#*=}; build=0 ;;
        --skip-build) build=0 ;;
        --no-enable) enable=0 ;;
        --no-systemctl) use_systemctl=0 ;;
        --uninstall) uninstall=1 ;;
        --purge) purge=1 ;;
        --dry-run) dry_run=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

case $prefix in /*) ;; *) echo "install.sh: --prefix must be an absolute path, got '$prefix'" >&2; exit 2 ;; esac
prefix=${prefix%/}
[ -n "$prefix" ] || prefix=/
if [ -n "$destdir" ]; then
    destdir=$(mkdir -p "$destdir" && cd "$destdir" && pwd)
    use_systemctl=0
fi
if [ "$purge" = 1 ] && [ "$uninstall" = 0 ]; then
    echo "install.sh: --purge only goes with --uninstall" >&2
    exit 2
fi

bin_dir=$prefix/bin
model_dir=$prefix/share/saliencyd/models
doc_dir=$prefix/share/doc/saliencyd
model_files=(fashion-mnist-cnn.onnx fashion-mnist-cnn.json fashion-mnist-cnn.labels.txt)
units=(saliencyd.service saliencyd@.service)
docs=(docs/deploy.md docs/configuration.md)

say() { printf 'install.sh: %s\n' "$*"; }

# Runs a command, or prints it under --dry-run.
run() {
    if [ "$dry_run" = 1 ]; then
        printf '+'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

# Installs `file` as `target` (mode 0644) with /usr/local/ replaced by the prefix (units, docs).
install_with_prefix() {
    local file=$1 target=$2
    if [ "$prefix" = /usr/local ]; then
        run install -m 0644 "$file" "$target"
    elif [ "$dry_run" = 1 ]; then
        printf '+ sed %q %q > %q\n' "s|/usr/local/|$prefix/|g" "$file" "$target"
    else
        sed "s|/usr/local/|$prefix/|g" "$file" >"$target"
        chmod 0644 "$target"
    fi
}

# systemctl, when there is a running systemd to talk to (not under --destdir, in a container
# without systemd, or with --no-systemctl).
systemd_running() { [ "$use_systemctl" = 1 ] && [ -d /run/systemd/system ]; }
systemctl_() {
    [ "$use_systemctl" = 1 ] || return 0
    if [ "$dry_run" = 1 ] || systemd_running; then
        run systemctl "$@"
    fi
}

need_root() {
    if [ "$dry_run" = 0 ] && [ -z "$destdir" ] && [ "$(id -u)" != 0 ]; then
        echo "install.sh: run as root (sudo $0 ...), or try --dry-run or --destdir DIR" >&2
        exit 1
    fi
}

# The enabled or running instances of saliencyd@.service, e.g. saliencyd@camera.service.
instances() {
    if systemd_running; then
        systemctl list-units --all --plain --no-legend 'saliencyd@*.service' 2>/dev/null | awk '{print $1}'
        systemctl list-unit-files --plain --no-legend 'saliencyd@*.service' 2>/dev/null | awk '$1 != "saliencyd@.service" {print $1}'
    fi
    if [ -d "$destdir$unit_dir" ]; then
        find "$destdir$unit_dir" -path '*.wants/saliencyd@*.service' -printf '%f\n' 2>/dev/null
    fi
}

do_uninstall() {
    need_root
    say "uninstalling saliencyd (prefix $prefix)"
    local instance
    mapfile -t found < <(instances | grep -v '^saliencyd@\.service$' | sort -u)
    for instance in "${found[@]}"; do
        systemctl_ disable --now "$instance" || true
    done
    systemctl_ disable --now saliencyd.service || true
    if [ "$purge" = 1 ]; then
        # Before the units go: `clean` knows where DynamicUser= put the state (/var/lib/private).
        systemctl_ clean --what=state --what=runtime saliencyd.service "${found[@]}" || true
    fi
    for unit in "${units[@]}"; do
        run rm -f "$destdir$unit_dir/$unit"
    done
    # Enablement links systemctl did not remove (no systemd to ask, or --destdir).
    local link
    while IFS= read -r link; do
        run rm -f "$link"
    done < <(find "$destdir$unit_dir" -path '*.wants/saliencyd*.service' 2>/dev/null)
    run rm -f "$destdir$bin_dir/saliencyd"
    run rm -rf "$destdir$prefix/share/saliencyd" "$destdir$doc_dir"
    systemctl_ daemon-reload
    systemctl_ reset-failed 'saliencyd*' || true
    if [ "$purge" = 1 ]; then
        run rm -rf "$destdir$config_dir"
        # Whatever `clean` could not reach (units already gone, or no systemd).
        run rm -rf "$destdir/var/lib/saliencyd" "$destdir/var/lib/private/saliencyd"
        local dir
        for dir in "$destdir"/var/lib/saliencyd-* "$destdir"/var/lib/private/saliencyd-*; do
            [ -e "$dir" ] || [ -L "$dir" ] || continue
            run rm -rf "$dir"
        done
        say "removed, including $config_dir and the state directories"
    else
        say "removed; kept the configuration in $destdir$config_dir (--uninstall --purge removes it)"
    fi
}

do_install() {
    need_root
    if [ "$build" = 1 ]; then
        local swift=${SWIFT:-swift}
        local -a as_user=()
        # Under sudo, build as the user who owns the checkout, so that .build stays theirs.
        if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
            as_user=(sudo -u "$SUDO_USER" env "PATH=$PATH")
        fi
        if [ "$dry_run" = 0 ] && ! command -v "$swift" >/dev/null 2>&1; then
            echo "install.sh: '$swift' not found; build first (swift build -c release --product saliencyd) and pass --skip-build, or set SWIFT" >&2
            exit 1
        fi
        say "building saliencyd (release)"
        # shellcheck disable=SC2086  # SWIFT_BUILD_FLAGS is a list of flags
        run "${as_user[@]}" "$swift" build --package-path "$repo" -c release --product saliencyd ${SWIFT_BUILD_FLAGS:-}
    fi
    [ -n "$binary" ] || binary=$repo/.build/release/saliencyd
    if [ ! -x "$binary" ]; then
        if [ "$dry_run" = 1 ]; then
            say "(dry run) $binary does not exist yet"
        else
            echo "install.sh: no saliencyd binary at $binary (build it, or pass --binary FILE)" >&2
            exit 1
        fi
    fi
    local file
    for file in "${model_files[@]}"; do
        [ -f "$repo/models/$file" ] || { echo "install.sh: $repo/models/$file is missing" >&2; exit 1; }
    done

    say "installing saliencyd to $destdir$bin_dir, the model to $destdir$model_dir, units to $destdir$unit_dir"
    run install -d -m 0755 "$destdir$bin_dir" "$destdir$model_dir" "$destdir$doc_dir/examples" "$destdir$unit_dir"
    # Copy to a temporary name and rename: replacing a running binary in place is safe this way.
    run install -m 0755 "$binary" "$destdir$bin_dir/.saliencyd.new"
    run mv -f "$destdir$bin_dir/.saliencyd.new" "$destdir$bin_dir/saliencyd"
    for file in "${model_files[@]}"; do
        run install -m 0644 "$repo/models/$file" "$destdir$model_dir/$file"
    done
    for file in "${docs[@]}"; do
        install_with_prefix "$repo/$file" "$destdir$doc_dir/$(basename "$file")"
    done
    for file in "$repo"/deploy/*.toml; do
        run install -m 0644 "$file" "$destdir$doc_dir/examples/$(basename "$file")"
    done
    for file in "${units[@]}"; do
        install_with_prefix "$repo/systemd/$file" "$destdir$unit_dir/$file"
    done

    # The configuration: the service reads it as a transient user, so it must be world-readable.
    run install -d -m 0755 "$destdir$config_dir"
    if [ -e "$destdir$config_dir/saliencyd.toml" ]; then
        say "keeping the existing $destdir$config_dir/saliencyd.toml (the default is in $doc_dir/examples/)"
    else
        run install -m 0644 "$repo/deploy/saliencyd.toml" "$destdir$config_dir/saliencyd.toml"
    fi

    if [ "$dry_run" = 0 ]; then
        check_installed
    fi

    if [ "$enable" = 1 ]; then
        systemctl_ daemon-reload
        systemctl_ enable saliencyd.service
        # restart, not start: a reinstall must run the new binary. Instances that run restart too.
        systemctl_ restart saliencyd.service
        local -a running=()
        if systemd_running; then
            mapfile -t running < <(systemctl list-units --state=active --plain --no-legend 'saliencyd@*.service' | awk '{print $1}')
        fi
        if [ "${#running[@]}" -gt 0 ]; then
            systemctl_ restart "${running[@]}"
        fi
        if systemd_running && [ "$dry_run" = 0 ]; then
            systemctl --no-pager --lines=5 status saliencyd.service || true
        fi
    elif systemd_running || [ "$dry_run" = 1 ]; then
        systemctl_ daemon-reload
    fi
    if [ "$use_systemctl" = 1 ] && ! systemd_running && [ "$dry_run" = 0 ]; then
        say "systemd is not running here: installed, but nothing was enabled or started"
    fi
    say "done. Configuration: $config_dir/saliencyd.toml; see $doc_dir/deploy.md"
}

# Checks the installed binary: its libraries resolve and stay visible under ProtectHome=yes, and
# it accepts the configuration (when it has --check-config).
check_installed() {
    local installed=$destdir$bin_dir/saliencyd libraries
    libraries=$(ldd "$installed" 2>&1 || true)
    if grep -q 'not found' <<<"$libraries"; then
        echo "install.sh: warning: $installed cannot find some of its libraries:" >&2
        grep 'not found' <<<"$libraries" >&2
    fi
    if grep -Eq '=> /(home|root)/' <<<"$libraries"; then
        echo "install.sh: warning: $installed loads libraries from /home or /root, which ProtectHome=yes hides" \
             "from the service; install the Swift toolchain elsewhere (e.g. /opt/swift) or build with" \
             "SWIFT_BUILD_FLAGS=--static-swift-stdlib" >&2
    fi
    local help
    # Captured first: `grep -q` on a pipe would close it early and fail the pipeline (SIGPIPE).
    help=$("$installed" serve --help 2>/dev/null || true)
    if grep -q -- '--check-config' <<<"$help"; then
        if [ -n "$destdir" ]; then
            # The staged binary looks for the model beside itself, below the staging root.
            "$installed" serve --config "$destdir$config_dir/saliencyd.toml" --check-config
        else
            "$installed" serve --config "$config_dir/saliencyd.toml" --check-config
        fi
    fi
}

if [ "$uninstall" = 1 ]; then
    do_uninstall
else
    do_install
fi
