#!/bin/sh
# Installs the Debian packages Smartshare builds, tests and runs with.
# Idempotent: asks apt only for what is missing; uses sudo when not root.
#   install-deps.sh         what `make`, `make test`, `make run` need
#   install-deps.sh arm64   that, plus the arm64 cross toolchain, qemu-user and the
#                           :arm64 -dev packages (`make test-arm64`, docs/node.md)
# The :arm64 libraries are Multi-Arch: same, so apt keeps them at the exact version
# of their amd64 twins and may upgrade those too.
set -eu
cd "$(dirname "$0")/.."
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
libsodium-dev libssl-dev liblmdb-dev liblua5.4-dev libuv1-dev libmicrohttpd-dev
libjansson-dev libcurl4-openssl-dev libmosquitto-dev mosquitto softhsm2 opensc
python3-cryptography prometheus python3-jsonschema python3-websockets python3-nacl
p11-kit libp11-kit-dev libcmocka-dev lmdb-utils openssl curl python3 gdb"
ARM64_PKGS="gcc-aarch64-linux-gnu qemu-user libc6:arm64 libc6-dev:arm64
libsodium-dev:arm64 libssl-dev:arm64 liblmdb-dev:arm64 liblua5.4-dev:arm64
libuv1-dev:arm64 libmicrohttpd-dev:arm64 libjansson-dev:arm64
libcurl4-openssl-dev:arm64 libcmocka-dev:arm64 libp11-kit-dev:arm64"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
case "${1:-}" in
"") ;;
arm64)
	PKGS="$PKGS $ARM64_PKGS"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "install-deps: adding the arm64 architecture" >&2
		$SUDO dpkg --add-architecture arm64
		UPDATE_NEEDED=1
	fi
	;;
*)
	echo "usage: $0 [arm64]" >&2
	exit 2
	;;
esac
# Installed for the right architecture: a plain name means this machine's own
# (or an Architecture: all package), so an arm64 twin alone does not count.
native=$(dpkg --print-architecture)
installed() {
	case "$1" in
	*:*) dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q "install ok installed" ;;
	*) dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null |
		grep -Eq "install ok installed ($native|all)$" ;;
	esac
}
missing=""
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && [ -z "${UPDATE_NEEDED:-}" ] && exit 0
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
[ -z "$missing" ] && exit 0
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
