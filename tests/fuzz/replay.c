/*
 * tests/fuzz/replay.c - runs a fuzz target on each file named on the
 * command line, once. It stands in for libFuzzer where there is none
 * (gcc, a musl build): the committed corpus is then checked in every
 * `make check`, with whatever sanitizers the build has.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char *argv[])
{
    static uint8_t buf[1 << 20]; /* inputs are far smaller than 1 MiB */
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
