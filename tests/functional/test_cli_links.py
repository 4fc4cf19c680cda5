"""`ssp`, the wallet CLI, links nothing of the node (issue #11, the protocol
library): only core, libssp_proto and the RPC client. `nm` finds none of the
store's, chain's, VM's, modules' or RPC server's symbols in it, and neither
its ELF NEEDED entries nor `ldd` name LMDB, Lua or libmicrohttpd. (ssp-agent
gets the same check in test_agent_cli.py.) A positive control makes sure the
symbol check is looking at symbols: the token and contract codecs and the
RPC client are there."""
import os
import subprocess

from sspnode import EMULATOR, bindir_from_argv, check, main

# chain, store, state, mempool, block production and genesis parsing; the VM and
# Lua; the modules' state code; the RPC server and libmicrohttpd; LMDB
BANNED = ("ssp_chain_", "ssp_store_", "ssp_txn_", "ssp_state_", "ssp_mempool_", "ssp_exec_",
          "ssp_produce_", "ssp_genesis_parse", "ssp_genesis_load", "ssp_block_decode",
          "ssp_vm_", "lua_", "luaL_", "luaopen_", "ssp_modules_", "ssp_token_module",
          "ssp_token_create", "ssp_token_transfer", "ssp_token_get", "ssp_contract_module",
          "ssp_contract_get", "ssp_device_module", "ssp_device_get", "ssp_rpc_server",
          "ssp_rpc_handle", "ssp_rpc_listen", "ssp_rpc_publish", "ssp_rpc_ws_", "ssp_rpc_budget",
          "MHD_", "mdb_", "ssp_node_")
NODE_LIBS = ("liblmdb", "liblua", "libmicrohttpd", "libuv")


def test():
    bindir = bindir_from_argv()
    exe = os.path.join(bindir, "ssp")
    syms = subprocess.run(["nm", "--defined-only", exe], capture_output=True, text=True,
                          timeout=60)
    check(syms.returncode == 0, "nm reads %s (%s)" % (exe, syms.stderr.strip()))
    names = {l.split()[-1] for l in syms.stdout.splitlines() if l.strip()}
    bad = sorted(n for n in names if n.startswith(BANNED))
    check(not bad, "ssp defines no node symbols (%s)" % bad[:8])
    for want in ("ssp_token_payload_encode", "ssp_token_symbol_valid",
                 "ssp_contract_call_encode", "ssp_contract_min_fee", "ssp_account_decode",
                 "ssp_genesis_dev_json", "ssp_pubkey_text", "ssp_rpc_client_new"):
        check(want in names, "ssp has %s (the check above is looking at symbols)" % want)
    # what the dynamic linker is asked for, whatever the architecture
    dyn = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True, timeout=60)
    check(dyn.returncode == 0 and "NEEDED" in dyn.stdout, "readelf -d reads ssp's NEEDED")
    needed = [l for l in dyn.stdout.splitlines() if "NEEDED" in l]
    check(not any(x in l for l in needed for x in NODE_LIBS),
          "ssp needs no LMDB, Lua, libmicrohttpd or libuv (%s)" % needed)
    if not EMULATOR:
        libs = subprocess.run(["ldd", exe], capture_output=True, text=True, timeout=60)
        check(libs.returncode == 0, "ldd %s" % exe)
        check(not any(x in libs.stdout for x in NODE_LIBS),
              "ldd: ssp loads no LMDB, Lua, libmicrohttpd or libuv")
        check("libcurl" in libs.stdout and "libsodium" in libs.stdout,
              "ldd: ssp loads the RPC client's libcurl and core's libsodium")


if __name__ == "__main__":
    main(test)
