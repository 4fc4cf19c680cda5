/*
 * keystore.c — the CLI's view of the keystore directory (application
 * layer): where a named key lives, creating the directory privately,
 * reading a key's public part or unlocking it, and resolving "address or
 * key name" arguments. File formats and crypto are core's ssp_keystore_*.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"

int cli_key_path(cli_ctx *c, char *path, size_t cap, const char *name)
{
	int n;
	if (!cli_name_valid(name))
		return cli_usage("invalid key name '%s': use 1-%d of A-Z a-z 0-9 _ . - "
		                 "(not starting with '.')",
		                 name, CLI_NAME_MAX);
	n = snprintf(path, cap, "%s/%s", c->keystore, name);
	if (n < 0 || (size_t)n >= cap) return cli_fail("keystore path too long");
	return CLI_OK;
}

int cli_keystore_mkdir(cli_ctx *c)
{
	char p[CLI_PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s", c->keystore);
	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';
		if (*s != '/' && !end) continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return cli_fail("cannot create keystore directory %s: %s", p,
			                strerror(errno));
		if (end) break;
		*s = '/';
	}
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail("keystore %s is not a directory", p);
	return CLI_OK;
}

/* Fails with a clear message if the key file is missing. */
static int key_exists(const char *path, const char *name, const char *dir)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return cli_fail("no key named '%s' in %s", name, dir);
		return cli_fail("cannot read %s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) return cli_fail("%s is not a regular file", path);
	return CLI_OK;
}

int cli_key_info(cli_ctx *c, ssp_pubkey *pk, const char *name)
{
	char path[CLI_PATH_MAX];
	int rc = cli_key_path(c, path, sizeof(path), name);
	if (rc) return rc;
	rc = key_exists(path, name, c->keystore);
	if (rc) return rc;
	rc = ssp_keystore_info(path, pk, NULL, 0);
	if (rc) return cli_fail("%s: %s", path, ssp_strerror(rc));
	return CLI_OK;
}

int cli_key_unlock(cli_ctx *c, ssp_seckey *sk, ssp_pubkey *pk, const char *name)
{
	char path[CLI_PATH_MAX];
	char *pw = NULL;
	ssp_pubkey info;
	int rc = cli_key_info(c, &info, name);
	if (rc) return rc;
	rc = cli_key_path(c, path, sizeof(path), name);
	if (rc) return rc;
	/* A key with an empty password (the devnet's) needs no prompt: tried first when
	 * SSP_PASSWORD is not set. A wrong guess costs one key derivation. */
	if (!getenv("SSP_PASSWORD") && ssp_keystore_read(path, "", sk, pk) == 0) return CLI_OK;
	pw = sodium_malloc(CLI_PASSWORD_MAX + 1);
	if (!pw) cli_oom();
	rc = cli_password(pw, false);
	if (rc) goto out;
	rc = ssp_keystore_read(path, pw, sk, pk);
	if (rc == SSP_ERR_PASSWORD)
		rc = cli_fail("cannot unlock key '%s': wrong password or corrupted keystore", name);
	else if (rc)
		rc = cli_fail("cannot unlock key '%s' (%s): %s", name, path, ssp_strerror(rc));
out:
	sodium_free(pw);
	if (rc) ssp_seckey_wipe(sk);
	return rc;
}

json_t *cli_key_json(const char *name, const ssp_pubkey *pk, const char *hrp, const char *path)
{
	char addr[96], hex[2 * SSP_PUBKEY_MAX + 1];
	ssp_addr a;
	json_t *o;
	ssp_addr_from_pubkey(&a, pk);
	ssp_addr_encode(addr, sizeof(addr), hrp, &a);
	ssp_hex_encode(hex, pk->b, pk->len);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", name, "type",
	              ssp_key_type_name(pk->type), "address", addr, "pubkey", hex, "path", path);
	if (!o) cli_oom();
	return o;
}

int cli_resolve_account(cli_ctx *c, ssp_addr *out, const char *hrp, const char *text)
{
	char path[CLI_PATH_MAX];
	struct stat st;
	ssp_pubkey pk;
	int rc = ssp_addr_decode(out, hrp, text);
	if (rc == 0) return CLI_OK;
	if (cli_name_valid(text) &&
	    snprintf(path, sizeof(path), "%s/%s", c->keystore, text) < (int)sizeof(path) &&
	    stat(path, &st) == 0) {
		rc = cli_key_info(c, &pk, text);
		if (rc) return rc;
		ssp_addr_from_pubkey(out, &pk);
		return CLI_OK;
	}
	/* Not a local key: explain why it is not an address either. */
	if (ssp_addr_decode(out, NULL, text) == 0 || rc == SSP_ERR_BADHRP)
		return cli_fail("'%s' is an address for another network (this node uses '%s')",
		                text, hrp);
	if (strchr(text, '1') && strncasecmp(text, hrp, strlen(hrp)) == 0)
		return cli_fail("invalid address '%s': %s", text, ssp_strerror(rc));
	return cli_fail("'%s' is neither an address nor a key in %s", text, c->keystore);
}
