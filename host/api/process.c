/* What a program around reel calls at its start and end (reel.h): MPI,
 * interrupts, resource limits. */
#include "api/api.h"
#include "dist/dist.h"
#include "reel.h"
#include "util/interrupt.h"
#include "util/limits.h"

void reel_mpi_init(int *argc, char ***argv)
{
    reel_dist_init(argc, argv);
}

void reel_mpi_finalize(int status)
{
    reel_dist_finalize(status);
}

int reel_mpi_root(void)
{
    return reel_dist_root();
}

void reel_catch_interrupts(void)
{
    reel_interrupt_install();
}

int reel_interrupt_status(void)
{
    return reel_interrupted() ? reel_interrupt_exit_code() : 0;
}

int reel_check_limits(void)
{
    reel_error err;
    return reel_limits_check(&err) ? api_fail(&err) : 0;
}
