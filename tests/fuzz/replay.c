/*
 * Runs LLVMFuzzerTestOneInput() over every file of the directories named on
 * the command line, so a fuzz target's committed corpus runs as an ordinary
 * test under gcc and the sanitizers, with no libFuzzer.
 *
 *	fuzz-code-replay tests/fuzz/corpus/code
 *
 * Exits 0 when every file ran (a finding aborts), 1 when a directory or file
 * cannot be read or a directory is empty.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0;
	size_t len = 0;
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "could not open file \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			uint8_t *nbuf;

			cap = cap ? cap * 2 : 4096;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL)
				goto out;
			buf = nbuf;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "could not read file \"%s\"\n", path);
		goto out;
	}
	/* An exact-size copy, so ASan sees reads past the input's end. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (exact == NULL)
			goto out;
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

int main(int argc, char **argv)
{
	int files = 0;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (d == NULL) {
			fprintf(stderr, "could not open directory \"%s\": %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (replay_file(path) != 0)
				r = 1;
			files++;
		}
		closedir(d);
	}
	printf("replayed %d files\n", files);
	return r != 0 || files == 0 ? 1 : 0;
}
