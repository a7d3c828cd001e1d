/* Peak resident set size of this process image in KiB: VmHWM from /proc/self/status (Linux),
 * -1 when unknown. Not getrusage's ru_maxrss, which on Linux also counts the parent's memory
 * from before exec. Shared by tests-c/list.c and bench/list_count.c. */
#ifndef VAULT_PARTS_PEAK_RSS_H
#define VAULT_PARTS_PEAK_RSS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline long peak_rss_kib(void) {
    char line[256];
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

#endif
