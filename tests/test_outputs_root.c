/* The output layer where only root can set the scene: a link owned by
 * another user, a file given to another user (issue 35 items 1, 2). The
 * suite is skipped as a whole when not run as root; test_outputs holds the
 * rest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "util/fileio.h"
#include "util/outfile.h"

static char *slurp(const char *path) { return reel_read_file(path, NULL, NULL); }

Test(outfile, a_link_in_a_shared_sticky_folder_owned_by_another_is_not_followed)
{
    if (geteuid() != 0)
        REEL_SKIP("needs root to make a link owned by another user");
    const char *dir = tmp_path("sticky");
    mkdir(dir, 0777);
    cr_assert_eq(chmod(dir, 01777), 0);
    const char *target = tmp_write("sticky_target.txt", "old\n");
    char *link_path = reel_path_join(dir, "link");
    remove(link_path);
    cr_assert_eq(symlink(target, link_path), 0);
    cr_assert_eq(lchown(link_path, 65534, 65534), 0); /* someone else's link, in root's sticky folder */
    reel_error err;
    cr_expect_neq(reel_write_file_atomic(link_path, "new\n", &err), 0);
    cr_expect(strstr(err.msg, "protected_symlinks"), "%s", err.msg);
    char *text = slurp(target);
    cr_expect_str_eq(text, "old\n");
    free(text);
    /* the same link in a folder that is not sticky is followed */
    cr_assert_eq(chmod(dir, 0777), 0);
    cr_expect_eq(reel_write_file_atomic(link_path, "new\n", &err), 0, "%s", err.msg);
    free(link_path);
}

Test(outfile, a_replaced_file_keeps_its_owner_where_the_process_may_set_it)
{
    if (geteuid() != 0)
        REEL_SKIP("only root may give a file to another user");
    const char *p = tmp_write("owned.txt", "old\n");
    cr_assert_eq(chown(p, 65534, 65534), 0);
    cr_assert_eq(chmod(p, 0640), 0);
    reel_error err;
    cr_assert_eq(reel_write_file_atomic(p, "new\n", &err), 0, "%s", err.msg);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_expect(st.st_uid == 65534 && st.st_gid == 65534, "owner %d:%d", (int)st.st_uid, (int)st.st_gid);
    cr_expect_eq(st.st_mode & 07777, 0640);
}
