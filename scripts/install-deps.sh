#!/usr/bin/env bash
# Installs everything Ruche needs to build, run and test on Debian 12, then the web client's
# npm packages. Idempotent: when everything is present it only checks and returns in seconds.
#   scripts/install-deps.sh            build + run + test dependencies
#   scripts/install-deps.sh --bench    also the benchmark peers (nginx, wrk, ejabberd, janus)
set -euo pipefail

cd "$(dirname "$0")/.."

# Debian packages, grouped by why we need them.
build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-14 libclang-rt-14-dev          # libFuzzer targets (make fuzz)
  clang-format-16                      # .clang-format uses InsertBraces (clang-format >= 15)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libsqlite3-dev libsodium-dev libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  libvips-dev                          # thumbnails (JPEG, PNG, WebP)
  libsrtp2-dev                         # SRTP/SRTCP for the SFU (src/rtc)
  libical-dev libexpat1-dev tzdata     # iCalendar, WebDAV XML, time zones (src/cal)
)
test_pkgs=(
  python3 python3-pytest python3-pytest-timeout python3-pytest-xdist python3-matrix-nio
  python3-olm                          # E2EE interop (nio encrypts with it)
  python3-pil                          # test images for the media tests
  python3-aiortc python3-websockets    # a real WebRTC client for the meeting tests
  python3-caldav vdirsyncer litmus     # real CalDAV/WebDAV clients for the calendar tests
  thunderbird                          # tests/interop/test_thunderbird.py (headless, Marionette)
  python3-aiosmtpd                     # a real SMTP server for the mail tests
  chromium curl
)
bench_pkgs=(nginx-light wrk ejabberd radicale janus)

want=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${bench_pkgs[@]}"); fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then want+=(nodejs npm); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: Debian packages present"
fi

# ejabberd and janus are only peers for bench/fanout.sh and bench/sfu_side_by_side.sh, which run
# their own instances from temporary configs: the system services the packages install stay
# stopped and disabled.
if [[ "${1:-}" == "--bench" ]] && command -v systemctl >/dev/null; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  for service in ejabberd janus; do
    if systemctl is-enabled --quiet "$service" 2>/dev/null; then
      echo "install-deps: disabling the system $service service"
      $SUDO systemctl disable "$service" >/dev/null 2>&1 || true  # works without a running systemd
    fi
    if systemctl is-active --quiet "$service" 2>/dev/null; then
      $SUDO systemctl stop "$service" >/dev/null 2>&1 || true
    fi
  done
fi

# Web client packages: exactly what package-lock.json says. Skip when node_modules matches the
# lock file already (npm writes node_modules/.package-lock.json after a successful install).
if [[ -f web/package-lock.json ]]; then
  if [[ ! -f web/node_modules/.package-lock.json ]] ||
     [[ web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
    echo "install-deps: npm ci in web/"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "install-deps: web/node_modules up to date"
  fi
fi
