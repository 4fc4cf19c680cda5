/*
 * keys.c — the `ssp key` commands (application layer): new, import, list
 * and show. Secrets exist only between generation/parsing and the keystore
 * write, and are wiped on every path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#define LIST_MAX 10000

static void print_key(cli_ctx *c, const char *name, const ssp_pubkey *pk, const char *path)
{
	json_t *o = cli_key_json(name, pk, cli_local_hrp(c), path);
	if (c->json) {
		cli_print_json(o);
	} else {
		cli_table t = {0};
		const char *fields[] = {"name", "type", "address", "pubkey", "path"};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			cli_table_add(&t, fields[i], "%s",
			              json_string_value(json_object_get(o, fields[i])));
		cli_table_print(&t);
	}
	json_decref(o);
}

/* Fails if a key of that name (or anything else at its path) exists. */
static int check_free(const char *path, const char *name)
{
	struct stat st;
	if (lstat(path, &st) == 0) return cli_fail("key '%s' already exists (%s)", name, path);
	if (errno != ENOENT && errno != ENOTDIR)
		return cli_fail("cannot access %s: %s", path, strerror(errno));
	return CLI_OK;
}

/* Asks for a new password, writes the keystore file and prints the key. */
static int store_key(cli_ctx *c, const char *name, const char *path, const ssp_seckey *sk,
                     const ssp_pubkey *pk)
{
	char *pw = sodium_malloc(CLI_PASSWORD_MAX + 1);
	bool empty;
	int rc;
	if (!pw) cli_oom();
	rc = cli_keystore_mkdir(c);
	if (rc) goto out;
	rc = cli_password(pw, true);
	if (rc) goto out;
	empty = pw[0] == '\0';
	rc = ssp_keystore_write(path, name, sk, pw);
	if (rc == SSP_ERR_EXISTS) {
		rc = cli_fail("key '%s' already exists (%s)", name, path);
		goto out;
	}
	if (rc) {
		rc = cli_fail("cannot write keystore %s: %s", path, ssp_strerror(rc));
		goto out;
	}
	print_key(c, name, pk, path);
	if (empty) cli_warn("the password is empty: anyone who can read %s can use the key", path);
out:
	sodium_free(pw);
	return rc;
}

int cli_cmd_key_new(cli_ctx *c, const cli_args *a)
{
	const char *name = cli_opt(a, "name");
	const char *tname = cli_opt(a, "type");
	char path[CLI_PATH_MAX];
	ssp_seckey sk;
	ssp_pubkey pk;
	int type, rc;

	if (!name) return cli_usage("key new: --name is required");
	type = ssp_key_type_parse(tname ? tname : "ed25519");
	if (type < 0) return cli_usage("key new: unknown --type '%s' (ed25519 or p256)", tname);
	rc = cli_key_path(c, path, sizeof(path), name);
	if (rc) return rc;
	rc = check_free(path, name);
	if (rc) return rc;
	rc = ssp_key_generate(&sk, &pk, type);
	if (rc) return cli_fail("cannot generate a key: %s", ssp_strerror(rc));
	rc = store_key(c, name, path, &sk, &pk);
	ssp_seckey_wipe(&sk);
	return rc;
}

int cli_cmd_key_import(cli_ctx *c, const cli_args *a)
{
	const char *name = cli_opt(a, "name");
	const char *pem_path = cli_opt(a, "pem");
	char path[CLI_PATH_MAX];
	char *pem = NULL;
	size_t pem_len = 0;
	ssp_seckey sk;
	ssp_pubkey pk;
	int rc;

	if (!name) return cli_usage("key import: --name is required");
	if (!pem_path) return cli_usage("key import: --pem FILE is required");
	rc = cli_key_path(c, path, sizeof(path), name);
	if (rc) return rc;
	rc = check_free(path, name);
	if (rc) return rc;
	rc = cli_read_file(&pem, &pem_len, pem_path, CLI_PEM_MAX);
	if (rc) return rc;
	rc = ssp_seckey_from_pem(&sk, pem, pem_len);
	sodium_memzero(pem, pem_len);
	free(pem);
	if (rc)
		return cli_fail("%s: %s (need a PKCS#8 Ed25519 or P-256 private key)", pem_path,
		                ssp_strerror(rc));
	rc = ssp_key_public(&pk, &sk);
	if (rc)
		rc = cli_fail("%s: %s", pem_path, ssp_strerror(rc));
	else
		rc = store_key(c, name, path, &sk, &pk);
	ssp_seckey_wipe(&sk);
	return rc;
}

/*
 * Prints a key's secret as PKCS#8 PEM on stdout, for other tools (openssl,
 * wallets, test frameworks). Refused without --yes: it is the whole key,
 * unencrypted, and may end up in a terminal's scrollback or a shell pipe.
 */
int cli_cmd_key_export(cli_ctx *c, const cli_args *a)
{
	const char *name = a->pos[0];
	ssp_seckey sk;
	ssp_pubkey pk;
	char *pem = NULL;
	size_t n = 0;
	int rc;

	if (!cli_name_valid(name)) return cli_usage("key export: invalid key name '%s'", name);
	if (!cli_opt(a, "yes"))
		return cli_usage("key export prints the secret key unencrypted: add --yes if that "
		                 "is what you want (e.g. ssp key export %s --yes > %s.pem)",
		                 name, name);
	rc = cli_key_unlock(c, &sk, &pk, name);
	if (rc) return rc;
	rc = ssp_seckey_to_pem(&pem, &n, &sk);
	ssp_seckey_wipe(&sk);
	if (rc) return cli_fail("key export: %s", ssp_strerror(rc));
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s}", "name", name, "pem", pem);
		if (!o) cli_oom();
		cli_print_json(o);
		json_decref(o);
	} else {
		fwrite(pem, 1, n, stdout);
	}
	sodium_memzero(pem, n);
	free(pem);
	return CLI_OK;
}

static int cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Valid key names of the regular files in the keystore, sorted. */
static int list_names(cli_ctx *c, char ***out, size_t *count)
{
	DIR *d = opendir(c->keystore);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = CLI_OK;

	*out = NULL;
	*count = 0;
	if (!d) {
		if (errno == ENOENT) return CLI_OK; /* nothing written yet */
		return cli_fail("cannot open keystore %s: %s", c->keystore, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (!cli_name_valid(e->d_name)) continue; /* dot files, temporaries */
		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
		if (n == LIST_MAX) {
			rc =
			    cli_fail("keystore %s holds more than %d files", c->keystore, LIST_MAX);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown) cli_oom();
			names = grown;
		}
		if (!(names[n] = strdup(e->d_name))) cli_oom();
		n++;
	}
	closedir(d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	if (n) qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return CLI_OK;
}

int cli_cmd_key_list(cli_ctx *c, const cli_args *a)
{
	char **names;
	size_t n, width = 0;
	json_t *arr;
	const char *hrp;
	int rc = list_names(c, &names, &n);
	if (rc) return rc;
	hrp = n ? cli_local_hrp(c) : "";
	arr = json_array();
	if (!arr) cli_oom();
	for (size_t i = 0; i < n; i++) {
		char path[CLI_PATH_MAX];
		ssp_pubkey pk;
		json_t *o;
		int krc;
		if (snprintf(path, sizeof(path), "%s/%s", c->keystore, names[i]) >=
		    (int)sizeof(path))
			abort(); /* setup() leaves room for any valid name */
		krc = ssp_keystore_info(path, &pk, NULL, 0);
		if (krc == 0)
			o = cli_key_json(names[i], &pk, hrp, path);
		else
			o = json_pack("{s:s, s:s, s:b, s:s}", "name", names[i], "path", path,
			              "malformed", 1, "error", ssp_strerror(krc));
		if (!o || json_array_append_new(arr, o)) cli_oom();
		if (strlen(names[i]) > width) width = strlen(names[i]);
	}
	if (c->json) {
		cli_print_json(arr);
	} else if (n == 0) {
		printf("(no keys in %s)\n", c->keystore);
	} else {
		size_t i;
		json_t *o;
		json_array_foreach(arr, i, o)
		{
			const char *name = json_string_value(json_object_get(o, "name"));
			if (json_is_true(json_object_get(o, "malformed")))
				printf("%-*s  (malformed)\n", (int)width, name);
			else
				printf("%-*s  %-7s  %s\n", (int)width, name,
				       json_string_value(json_object_get(o, "type")),
				       json_string_value(json_object_get(o, "address")));
		}
	}
	json_decref(arr);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return CLI_OK;
}

int cli_cmd_key_show(cli_ctx *c, const cli_args *a)
{
	const char *name = a->pos[0];
	char path[CLI_PATH_MAX];
	ssp_pubkey pk;
	int rc = cli_key_info(c, &pk, name);
	if (rc) return rc;
	rc = cli_key_path(c, path, sizeof(path), name);
	if (rc) return rc;
	print_key(c, name, &pk, path);
	return CLI_OK;
}
