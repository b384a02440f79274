/* Replays the saved fuzz corpus (fuzz/corpus/TARGET/FILE: seeds, and every crash
 * the fuzzers found, kept as regression inputs) through the fuzz targets: none
 * may crash, and under the sanitizer build none may leak or read out of bounds. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "targets.h"
#include "util/fileio.h"

Test(fuzz_corpus, every_saved_input_is_handled)
{
    int files = 0;
    for (const reel_fuzz_target *t = reel_fuzz_targets; t->name; t++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", test_source_path("fuzz/corpus"), t->name);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "corpus folder %s missing", dir);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size_t len;
            char *buf = reel_read_file(path, &len, NULL);
            cr_assert_not_null(buf, "%s unreadable", path);
            cr_expect_eq(t->run((const uint8_t *)buf, len), 0, "%s", path);
            free(buf);
            files++;
        }
        closedir(d);
    }
    cr_expect_geq(files, 8, "the corpus should hold seeds for every target");
}
