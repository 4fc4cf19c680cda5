# Cross-compiling for arm64 (aarch64) Linux with Debian's toolchain and the
# :arm64 multiarch -dev packages (scripts/install-deps.sh arm64); the test
# binaries run under qemu-user (`make test-arm64`, docs/node.md).
# QEMU_LD_PREFIX is deliberately not used: the arm64 loader and libc are
# installed at their multiarch paths, where qemu finds them by itself.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
# pkg-config sees only the arm64 .pc files
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
