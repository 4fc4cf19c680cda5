#!/bin/sh
# Installs the Debian packages Smartshare builds, tests and runs with.
# Idempotent: asks apt only for what is missing; uses sudo when not root.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
libsodium-dev libssl-dev liblmdb-dev liblua5.4-dev libuv1-dev libmicrohttpd-dev
libjansson-dev libcurl4-openssl-dev libmosquitto-dev mosquitto softhsm2 opensc
python3-cryptography
p11-kit libp11-kit-dev libcmocka-dev lmdb-utils openssl curl python3"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
