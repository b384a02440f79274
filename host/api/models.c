/* Model definitions read at run time (reel.h): the user's folder, a
 * --models-dir, the "base" entries of a params file. */
#include "api/api.h"
#include "models/model_dirs.h"
#include "reel.h"

int reel_models_add_folder(const char *dir)
{
    reel_error err;
    reel_log log = api_log();
    return reel_models_load_runtime(dir, &log, &err) ? api_fail(&err) : 0;
}

int reel_models_add_from_params(const char *path)
{
    reel_error err;
    if (!path)
        return api_bad_arg("reel_models_add_from_params", "no path");
    return reel_models_from_params(path, &err) ? api_fail(&err) : 0;
}
