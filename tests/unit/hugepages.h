/* SPDX-License-Identifier: MIT */
/*
 * Huge pages for the tests that need some for a moment (kvm_ram,
 * gd_vu_huge): read /proc/meminfo, and reserve N more in
 * /proc/sys/vm/nr_hugepages, the previous value restored at exit.
 */
#ifndef TESTS_UNIT_HUGEPAGES_H
#define TESTS_UNIT_HUGEPAGES_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NR_HP "/proc/sys/vm/nr_hugepages"

/* The number after @key in @path (the file's first number if @key is NULL); -1 if none. */
static inline long hp_read(const char *path, const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtol(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, strlen(key))) {
			v = strtol(line + strlen(key), NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* A /proc/meminfo field ("HugePages_Free:"...). */
static inline long hp_meminfo(const char *key)
{
	return hp_read("/proc/meminfo", key);
}

static inline bool hp_write(long v)
{
	FILE *f = fopen(NR_HP, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok;
}

static long hp_saved = -1;

static void hp_restore(void)
{
	if (hp_saved >= 0 && !hp_write(hp_saved))
		fprintf(stderr, "warning: could not restore %s to %ld\n", NR_HP, hp_saved);
}

/*
 * Reserve @n more huge pages until exit (once per process).  False if that
 * is not possible here (not root, or the kernel found too few free).
 */
static inline bool hp_reserve_more(long n)
{
	hp_saved = hp_read(NR_HP, NULL);
	if (hp_saved < 0)
		return false;
	atexit(hp_restore);
	return hp_write(hp_saved + n) && hp_meminfo("HugePages_Free:") >= n;
}

#endif
