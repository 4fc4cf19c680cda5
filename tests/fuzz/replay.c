/*
 * replay.c — the corpus replay driver shared by every libFuzzer harness in
 * tests/fuzz (test infrastructure, no layer of its own). Without libFuzzer,
 * each harness links this main(), which runs LLVMFuzzerTestOneInput once on
 * every regular file of the directories (in name order) and files named on
 * the command line, so `ctest` replays the checked-in corpus under the
 * sanitizers. A missing or empty directory is an error: a corpus that
 * silently vanished must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_MAX ((size_t)64 << 20) /* no corpus file is anywhere near this */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs the harness on one file; 0 or -1 (reported). */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	struct stat st;
	size_t n = 0;
	int rc = -1;

	if (!f || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((uintmax_t)st.st_size > INPUT_MAX) {
		fprintf(stderr, "replay: %s: larger than %zu bytes\n", path, INPUT_MAX);
		goto out;
	}
	n = (size_t)st.st_size;
	/* An exact-size copy, so the sanitizers catch any read past the input. */
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, n);
	rc = 0;
out:
	free(buf);
	if (f) fclose(f);
	return rc;
}

static int is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Runs every regular file in dir, sorted by name; adds to *count. 0 or -1. */
static int run_dir(const char *dir, size_t *count)
{
	struct dirent **names = NULL;
	char path[4096];
	int n, i, rc = -1;
	size_t before = *count;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir, names[i]->d_name);
			goto out;
		}
		if (!is_regular(path)) continue;
		if (run_file(path)) goto out;
		(*count)++;
	}
	if (*count == before) {
		fprintf(stderr, "replay: %s: no inputs (an empty corpus cannot pass)\n", dir);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	size_t count = 0;
	int i, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		goto out;
	}
	if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count)) goto out;
		} else {
			if (run_file(argv[i])) goto out;
			count++;
		}
	}
	printf("replay: %zu inputs OK\n", count);
	rc = 0;
out:
	return rc;
}
