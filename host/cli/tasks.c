#include "cli/tasks.h"

#include "cli/progress.h"

#include <stdio.h>

reel_task *reel_cli_task(const char *name, const cJSON *options)
{
    char *text = cJSON_PrintUnformatted(options);
    reel_task *t = text ? reel_task_new(name, text) : NULL;
    cJSON_free(text);
    if (t)
        reel_task_name_flags(t, 1);
    return t;
}

int reel_cli_run(reel_task *t, const char *cmd)
{
    int r = t ? reel_task_run(t) : -1;
    reel_cli_progress_end(); /* the task's progress line, before what the command prints */
    if (r == 0)
        return REEL_EXIT_OK;
    fprintf(stderr, "reel %s: %s\n", cmd, reel_last_error());
    reel_task_free(t);
    return r == REEL_TASK_REFUSED ? REEL_EXIT_USAGE : REEL_EXIT_RUNTIME;
}

void reel_cli_print_log(void *user, reel_log_level level, const char *message, const reel_progress *progress)
{
    (void)user;
    reel_cli_progress_show(level, message, progress); /* a line each, or one updating line on a terminal */
}

void reel_cli_set_log(int quiet)
{
    reel_set_log(reel_cli_print_log, NULL, quiet ? REEL_LOG_WARNING : REEL_LOG_INFO);
}

const char *reel_cli_model_names(void)
{
    static char list[1024];
    char *json = reel_model_list();
    cJSON *names = json ? cJSON_Parse(json) : NULL;
    reel_free(json);
    size_t n = 0;
    list[0] = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, names)
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", n ? ", " : "",
                              it->valuestring);
    cJSON_Delete(names);
    return list;
}
