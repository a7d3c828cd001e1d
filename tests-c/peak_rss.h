/* Peak resident set size of this process image in KiB: VmHWM from /proc/self/status (Linux),
 * -1 when unknown. Not getrusage's ru_maxrss, which on Linux also counts the parent's memory
 * from before exec. Shared by tests-c/list.c and bench/list_count.c. */
#ifndef VAULT_PARTS_PEAK_RSS_H
#define VAULT_PARTS_PEAK_RSS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A "Field:   N kB" line of /proc/self/status, in KiB; -1 when it cannot be read. */
static inline long proc_status_kib(const char *field) {
    char line[256];
    size_t len = strlen(field);
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, field, len) == 0) kib = strtol(line + len, NULL, 10);
    fclose(f);
    return kib;
}

/* The process's peak resident set (VmHWM). */
static inline long peak_rss_kib(void) { return proc_status_kib("VmHWM:"); }

#endif
