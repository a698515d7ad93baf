#!/usr/bin/env bash
# check-in-nspawn.sh: checks deploy/install.sh and the units for real, under systemd as PID 1.
#
# Boots a Debian 12 (bookworm) container with systemd-nspawn, installs saliencyd in it with
# `sudo deploy/install.sh --binary ...` exactly as docs/deploy.md says, and checks, inside:
#   1. `systemctl status saliencyd`: active (running), with the daemon's Status: line
#   2. `systemd-analyze security saliencyd.service` (the live unit, not --offline)
#   3. frames in with `saliencyd send`, maps out with `saliencyd tap`
#   4. `systemctl reload` (RELOADING=1 ... READY=1, same PID, still active), and a rejected reload
#   5. `systemctl stop`: STOPPING=1, drain, exit status 0
#   6. the watchdog: a drop-in with WatchdogSec=2 and a worker wedged on purpose; systemd must
#      kill it for the watchdog and restart it
#   7. an instance, saliencyd@example, with its own configuration (deploy/replay-pull-block.toml)
#   8. install.sh run again (idempotent), then `--uninstall` and `--uninstall --purge`
# It prints a transcript of every command and its output (docs/deploy.md, "Verified under systemd",
# quotes one) and exits non-zero at the first check that fails.
#
# Usage: sudo tools/deploy/check-in-nspawn.sh [--binary FILE] [--root DIR] [--keep-running]
#   --binary FILE   a saliencyd built elsewhere (default: build one, see below)
#   --root DIR      where the container's root file system lives (default /var/tmp/saliencyd-nspawn;
#                   keep it outside the checkout). Made with debootstrap on the first run, reused after.
#   --keep-running  leave the container running at the end (enter it with
#                   `nsenter -t "$(cat DIR/leader.pid)" -a bash`)
#
# Needs: root; Debian's debootstrap and systemd-container (installed with apt-get when missing) and
# a Debian mirror for debootstrap (first run only); the Swift toolchain and `make deps` for the build.
# It does not need systemd on the host: nspawn runs with --register=no --keep-unit, so it asks no
# host systemd or machined for anything, and commands are run inside with nsenter.
# The container has its own network namespace (--private-network): only its own loopback, so its
# ports 5555/5556/5560/5561 do not clash with anything on the host.
#
# The binary: `swift build -c release --product saliencyd --static-swift-stdlib
# --scratch-path .build-nspawn`, so that the container needs no Swift toolchain, only Debian's
# runtime packages (libopenblas0, libzmq5, libturbojpeg0, libpng16-16, zlib1g, libssl3).
#
# Takes (2 busy cores): first run about 10 min (debootstrap 3-4 min, the release build 4-5 min),
# then about 2 min (an incremental build, boot, the checks). Idempotent: every run starts from an
# uninstalled state in a freshly booted container; the root file system is kept.
# shellcheck disable=SC2016,SC2015  # commands for inside are single-quoted on purpose
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
root=/var/tmp/saliencyd-nspawn
binary=""
keep_running=0
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=${2:?--binary needs a file}; shift ;;
        --root) root=${2:?--root needs a directory}; shift ;;
        --keep-running) keep_running=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-in-nspawn.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "check-in-nspawn.sh: run as root" >&2; exit 1; }
case $root in /*) ;; *) root=$PWD/$root ;; esac
case $root/ in "$repo"/*) echo "check-in-nspawn.sh: --root must be outside the checkout" >&2; exit 2 ;; esac

rootfs=$root/bookworm
machine=saliencyd-check
packages=systemd,systemd-sysv,dbus,sudo,procps,iproute2,libopenblas0,libzmq5,libturbojpeg0,libpng16-16,zlib1g,libssl3
transcript=$root/transcript.txt
mkdir -p "$root"

note() { printf '\n=== %s\n' "$*" | tee -a "$transcript"; }
fail() { printf 'check-in-nspawn.sh: FAILED: %s\n' "$*" | tee -a "$transcript" >&2; exit 1; }

# --- the tools -----------------------------------------------------------------------------------
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
command -v nsenter >/dev/null || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# --- the binary ----------------------------------------------------------------------------------
if [ -z "$binary" ]; then
    echo "building saliencyd (release, static Swift runtime) in $repo/.build-nspawn"
    (cd "$repo" && swift build -c release --product saliencyd --static-swift-stdlib --scratch-path .build-nspawn)
    binary=$repo/.build-nspawn/release/saliencyd
fi
[ -x "$binary" ] || fail "no binary at $binary"
if ldd "$binary" | grep -q 'libswift'; then
    fail "$binary links the Swift runtime dynamically; build it with --static-swift-stdlib"
fi

# --- the root file system ------------------------------------------------------------------------
if [ "$(cat "$rootfs/.saliencyd-packages" 2>/dev/null)" != "$packages" ]; then
    echo "making a Debian 12 root file system in $rootfs (debootstrap, a few minutes)"
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" http://deb.debian.org/debian \
        >"$root/debootstrap.log" 2>&1 || { tail -20 "$root/debootstrap.log" >&2; fail "debootstrap"; }
    echo "$machine" >"$rootfs/etc/hostname"
    # What the Debian installer writes (sudo resolves the host name).
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$machine" >"$rootfs/etc/hosts"
    printf '%s\n' "$packages" >"$rootfs/.saliencyd-packages"
fi

# A checkout as a user would have it (tracked and untracked files, no build output), and the binary.
rm -rf "$rootfs/usr/src/saliencyd" "$rootfs/usr/src/saliencyd-bin"
mkdir -p "$rootfs/usr/src/saliencyd" "$rootfs/usr/src/saliencyd-bin"
git -C "$repo" ls-files -z --cached --others --exclude-standard |
    (cd "$repo" && tar --null -T - -cf - 2>/dev/null) | tar -xf - -C "$rootfs/usr/src/saliencyd"
install -m 0755 "$binary" "$rootfs/usr/src/saliencyd-bin/saliencyd"

# --- boot ----------------------------------------------------------------------------------------
leader=""
nspawn_pid=""
stop_container() {
    [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null || return 0
    if [ -n "$leader" ]; then
        nsenter -t "$leader" -a systemctl poweroff >/dev/null 2>&1 || true
    fi

    # Then SIGTERM (nspawn asks the container's systemd to power off), then SIGKILL.
    local signal
    for signal in TERM KILL; do
        for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || return 0; sleep 0.5; done
        kill -s "$signal" "$nspawn_pid" 2>/dev/null || true
    done
}
if [ -f "$root/nspawn.pid" ] && kill -0 "$(cat "$root/nspawn.pid")" 2>/dev/null &&
   grep -q systemd-nspawn "/proc/$(cat "$root/nspawn.pid")/cmdline" 2>/dev/null; then
    # Left running by --keep-running: power it off so that this run starts from a fresh boot.
    nspawn_pid=$(cat "$root/nspawn.pid")
    leader=$(cat "$root/leader.pid" 2>/dev/null || true)
    echo "powering off the container a previous run left running"
    stop_container
fi
nspawn_pid=""
leader=""
[ "$keep_running" = 1 ] || trap stop_container EXIT

: >"$transcript"
systemd-nspawn --directory="$rootfs" --machine="$machine" --register=no --keep-unit \
    --private-network --console=pipe --boot </dev/null >"$root/console.log" 2>&1 &
nspawn_pid=$!
echo "$nspawn_pid" >"$root/nspawn.pid"
for _ in $(seq 100); do
    # The container's PID 1 (nspawn's first child only sets the container up, then exits).
    leader=$(pgrep -P "$nspawn_pid" -x systemd | head -1 || true)
    [ -n "$leader" ] && break
    sleep 0.2
done
[ -n "$leader" ] || { cat "$root/console.log" >&2; fail "systemd-nspawn did not start a container"; }
echo "$leader" >"$root/leader.pid"

# Runs a command inside the container, as root, with a clean environment.
inside() {
    nsenter -t "$leader" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb SYSTEMD_COLORS=0 SYSTEMD_PAGER= HOME=/root "$@"
}
# Runs a shell command inside, shows it and its output in the transcript; returns its status.
show() {
    printf '# %s\n' "$1" | tee -a "$transcript"
    local output status=0
    output=$(inside bash -c "cd /usr/src/saliencyd && $1" 2>&1) || status=$?
    [ -z "$output" ] || printf '%s\n' "$output" | tee -a "$transcript"
    return "$status"
}
# The value of a unit property.
prop() { inside systemctl show -P "$2" "$1"; }
# Waits up to $1 seconds for the shell condition $2 (run inside) to hold.
wait_for() {
    local deadline=$((SECONDS + $1))
    until inside bash -c "$2" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

state=""
for _ in $(seq 120); do
    state=$(inside systemctl is-system-running 2>/dev/null || true)
    case $state in running | degraded) break ;; esac
    sleep 0.5
done
note "container booted: systemctl is-system-running: $state"
case $state in running | degraded) ;; *) cat "$root/console.log" >&2; fail "the container's systemd did not come up" ;; esac
show 'systemctl --version | head -1; . /etc/os-release; echo "$PRETTY_NAME"'
show 'systemctl --failed --no-legend'

# A previous run stopped half-way may have left an install in the file system: start uninstalled.
inside /usr/src/saliencyd/deploy/install.sh --uninstall --purge >/dev/null 2>&1 || true

# --- 1. install and status -----------------------------------------------------------------------
note "1. sudo deploy/install.sh --binary ... (as docs/deploy.md: build elsewhere, install the result)"
show 'sudo deploy/install.sh --binary /usr/src/saliencyd-bin/saliencyd' || fail "install.sh exited non-zero"
[ "$(prop saliencyd ActiveState)/$(prop saliencyd SubState)" = active/running ] || fail "saliencyd is not active (running)"
wait_for 20 'systemctl show -P StatusText saliencyd | grep -q frames/s' || fail "no STATUS= line from the daemon"
show 'systemctl status saliencyd --no-pager --lines=0 | grep -E "Active:|Status:"' || fail "no Active:/Status: lines"
show 'systemctl show -p Type -p ActiveState -p SubState -p StatusText -p NRestarts -p WatchdogUSec saliencyd'

# --- 2. hardening --------------------------------------------------------------------------------
note "2. systemd-analyze security (the running unit)"
show 'systemd-analyze security saliencyd.service --no-pager | tail -1'
score=$(inside systemd-analyze security saliencyd.service --no-pager | awk '/Overall exposure level/ {print $(NF-2)}')
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }' || fail "exposure level '$score' is above 2.0"
show 'ps -o user,pid,args -C saliencyd; ls -ld /var/lib/saliencyd /var/lib/private/saliencyd /run/saliencyd'

# --- 3. frames -----------------------------------------------------------------------------------
note "3. frames in with saliencyd send (REQ to the hub), maps out with saliencyd tap"
inside bash -c 'saliencyd tap --count 10 --idle-timeout 30 >/tmp/tap.out 2>&1 & echo $! >/tmp/tap.pid'
sleep 1
show 'saliencyd send --verbose models/samples/samples.npy' || fail "saliencyd send"
wait_for 30 '! kill -0 "$(cat /tmp/tap.pid)"' || fail "tap did not get 10 messages"
show 'cat /tmp/tap.out'
[ "$(inside grep -c . /tmp/tap.out)" -ge 10 ] || fail "tap printed fewer than 10 lines"
# The status line comes every status_interval_s (5 s).
wait_for 15 'systemctl show -P StatusText saliencyd | grep -q "published 10,"' || fail "the status line does not count 10 published"
note "systemctl status after the frames"
show 'systemctl status saliencyd --no-pager --lines=5'

# --- 4. reload -----------------------------------------------------------------------------------
note "4. systemctl reload: RELOADING=1, re-read, READY=1; the same process stays active"
pid_before=$(prop saliencyd MainPID)
cursor=$(inside journalctl -u saliencyd -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
show 'systemctl reload saliencyd' || fail "systemctl reload"
# systemd 252 has no Type=notify-reload: `systemctl reload` returns once ExecReload (kill -HUP) has
# run, and the daemon's RELOADING=1 then puts the unit in "reloading" until its READY=1.
wait_for 10 'journalctl -u saliencyd -o cat -n 20 | grep -q "\] reloaded:" && [ "$(systemctl show -P SubState saliencyd)" = running ]' ||
    fail "the reload did not finish (no 'reloaded:' in the journal, or not back to running)"
show "journalctl -u saliencyd --no-pager -o short-precise --after-cursor='$cursor'"
[ "$(prop saliencyd MainPID)" = "$pid_before" ] || fail "the main PID changed on reload"
[ "$(prop saliencyd ActiveState)/$(prop saliencyd SubState)" = active/running ] || fail "not active after reload"
show 'systemctl status saliencyd --no-pager --lines=0 | grep -E "Active:|Main PID:|Status:"'

note "4b. a reload with an invalid configuration is rejected; the old one keeps serving"
inside cp /etc/saliencyd/saliencyd.toml /etc/saliencyd/saliencyd.toml.good
inside sed -i 's/^# max_batch = 8/max_batch = 0/' /etc/saliencyd/saliencyd.toml
cursor=$(inside journalctl -u saliencyd -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
show 'systemctl reload saliencyd; echo "reload: exit $?"'
wait_for 10 'systemctl show -P StatusText saliencyd | grep -q "reload rejected"' || fail "the status line does not say the reload was rejected"
show "journalctl -u saliencyd --no-pager -o cat --after-cursor='$cursor'"
show 'systemctl status saliencyd --no-pager --lines=0 | grep -E "Active:|Main PID:|Status:"'
[ "$(prop saliencyd ActiveState)" = active ] || fail "not active after a rejected reload"
inside mv /etc/saliencyd/saliencyd.toml.good /etc/saliencyd/saliencyd.toml
inside systemctl reload saliencyd
wait_for 10 '[ "$(systemctl show -P SubState saliencyd)" = running ] && ! systemctl show -P StatusText saliencyd | grep -q reload' ||
    fail "the good configuration did not reload"

# --- 5. stop -------------------------------------------------------------------------------------
note "5. systemctl stop: SIGTERM, STOPPING=1, drain, exit 0"
cursor=$(inside journalctl -u saliencyd -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
show 'time systemctl stop saliencyd' || fail "systemctl stop"
show "journalctl -u saliencyd --no-pager -o short-precise --after-cursor='$cursor'"
show 'systemctl show -p ActiveState -p Result -p ExecMainCode -p ExecMainStatus saliencyd'
[ "$(prop saliencyd Result)" = success ] && [ "$(prop saliencyd ExecMainStatus)" = 0 ] || fail "the stop did not end in exit 0"

# --- 6. watchdog ---------------------------------------------------------------------------------
note "6. the watchdog: WatchdogSec=2 and a worker wedged on purpose after one batch"
inside mkdir -p /etc/systemd/system/saliencyd.service.d
inside tee /etc/systemd/system/saliencyd.service.d/watchdog-check.conf >/dev/null <<'EOF'
[Service]
WatchdogSec=2
ExecStart=
ExecStart=/usr/local/bin/saliencyd serve --config /etc/saliencyd/saliencyd.toml --debug-wedge-after-batches 1 --stall-timeout 1 --workers 1
EOF
show 'cat /etc/systemd/system/saliencyd.service.d/watchdog-check.conf'
inside systemctl daemon-reload
inside systemctl reset-failed saliencyd 2>/dev/null || true
inside systemctl start saliencyd
cursor=$(inside journalctl -u saliencyd -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p')
# Two frames: the first batch goes through, the worker wedges on the second.
show 'saliencyd send --count 2 --timeout 5 models/samples/samples.npy; echo "send: exit $?"'
wait_for 30 '[ "$(systemctl show -P NRestarts saliencyd)" -ge 1 ]' || fail "systemd did not restart the wedged daemon"
wait_for 30 '[ "$(systemctl show -P SubState saliencyd)" = running ]' || fail "not running again after the watchdog restart"
show "journalctl -u saliencyd --no-pager -o short-precise --after-cursor='$cursor'"
inside journalctl -u saliencyd --no-pager -o cat --after-cursor="$cursor" | grep -q 'Watchdog timeout' ||
    fail "no 'Watchdog timeout' in the journal"
show 'systemctl show -p NRestarts -p ActiveState -p SubState saliencyd'
inside rm -f /etc/systemd/system/saliencyd.service.d/watchdog-check.conf
inside rmdir /etc/systemd/system/saliencyd.service.d
inside systemctl daemon-reload
inside systemctl restart saliencyd

# --- 7. an instance ------------------------------------------------------------------------------
note "7. saliencyd@example with its own configuration (replay-pull-block.toml: PULL 5556 -> PUSH 5561)"
show 'cp /usr/local/share/doc/saliencyd/examples/replay-pull-block.toml /etc/saliencyd/example.toml
saliencyd serve --config /etc/saliencyd/example.toml --check-config && systemctl enable --now saliencyd@example' ||
    fail "saliencyd@example did not start"
inside bash -c 'saliencyd tap --socket pull --endpoint tcp://127.0.0.1:5561 --count 10 --idle-timeout 30 --summary >/tmp/tap-example.out 2>&1 & echo $! >/tmp/tap.pid'
show 'saliencyd send --socket push --endpoint tcp://127.0.0.1:5556 models/samples/samples.npy' || fail "send to the instance"
wait_for 30 '! kill -0 "$(cat /tmp/tap.pid)"' || fail "tap did not get 10 messages from the instance"
show 'cat /tmp/tap-example.out'
wait_for 15 'systemctl show -P StatusText saliencyd@example | grep -q "published 10"' || fail "the instance's status line does not count 10 published"
show 'systemctl status saliencyd@example --no-pager --lines=3'
show 'ps -o user,pid,args -C saliencyd; ls -ld /var/lib/saliencyd-example /run/saliencyd-example'
[ "$(prop saliencyd@example ActiveState)" = active ] && [ "$(prop saliencyd ActiveState)" = active ] || fail "both must be active"
show 'systemd-analyze security saliencyd@example.service --no-pager | tail -1'

# --- 8. reinstall, uninstall ---------------------------------------------------------------------
note "8. install.sh again (restarts both, keeps the configuration), then --uninstall, --uninstall --purge"
pid_before=$(prop saliencyd@example MainPID)
show 'deploy/install.sh --binary /usr/src/saliencyd-bin/saliencyd | grep -v "^ "' || fail "the second install.sh"
[ "$(prop saliencyd@example MainPID)" != "$pid_before" ] || fail "the reinstall did not restart saliencyd@example"
[ "$(prop saliencyd ActiveState)" = active ] && [ "$(prop saliencyd@example ActiveState)" = active ] || fail "not active after the reinstall"
show 'deploy/install.sh --uninstall' || fail "install.sh --uninstall"
show 'systemctl list-units --all --no-legend "saliencyd*"; pgrep -a saliencyd; ls /etc/saliencyd /usr/local/bin; ls -d /var/lib/private/saliencyd*'
inside pgrep saliencyd >/dev/null && fail "saliencyd still runs after --uninstall"
inside test -e /usr/local/bin/saliencyd && fail "the binary is still there after --uninstall"
inside test -f /etc/saliencyd/saliencyd.toml || fail "--uninstall removed the configuration"
show 'deploy/install.sh --uninstall --purge' || fail "install.sh --uninstall --purge"
show 'ls -d /etc/saliencyd /var/lib/private/saliencyd* /var/lib/saliencyd* 2>&1 || true'
inside test -e /etc/saliencyd && fail "--purge left /etc/saliencyd"
inside bash -c 'ls -d /var/lib/private/saliencyd* /var/lib/saliencyd*' >/dev/null 2>&1 && fail "--purge left a state directory"

note "all checks passed (transcript: $transcript)"
if [ "$keep_running" = 1 ]; then
    echo "the container keeps running: nsenter -t $leader -a bash; stop it with: nsenter -t $leader -a systemctl poweroff"
fi
