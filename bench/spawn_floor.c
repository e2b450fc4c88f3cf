/* spawn_floor: the fork/exec floor for Hearth's runner benchmark.
 *
 *   spawn_floor N J CMD [ARGS...]
 *
 * Runs N instances of CMD with posix_spawnp, at most J at a time, reaping each
 * with waitpid, and prints
 *
 *   spawn_floor: N tasks in S s: R tasks/s
 *
 * No scheduling, no bookkeeping, no output capture: this is the least a task
 * runner can do per task on this machine, the peer hearth is measured against.
 * Exit status: 0 when every instance exited 0; 1 when one failed (the count is
 * reported on stderr); 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static int parse_count(const char *text, const char *what, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > INT_MAX) {
        fprintf(stderr, "spawn_floor: %s must be a whole number >= 1, got '%s'\n", what, text);
        return -1;
    }
    *out = v;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for one child; returns 0 if it exited 0, 1 if it failed, -1 if there
 * is no child left. */
static int reap_one(void)
{
    int status = 0;
    pid_t pid;
    do {
        pid = waitpid(-1, &status, 0);
    } while (pid < 0 && errno == EINTR);
    if (pid < 0)
        return -1;
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: spawn_floor N J CMD [ARGS...]\n");
        return 2;
    }
    long n = 0, j = 0;
    if (parse_count(argv[1], "N", &n) != 0 || parse_count(argv[2], "J", &j) != 0)
        return 2;
    char **cmd = argv + 3;

    long started = 0, running = 0, failed = 0;
    double t0 = now_seconds();
    while (started < n || running > 0) {
        if (started < n && running < j) {
            pid_t pid;
            int rc = posix_spawnp(&pid, cmd[0], NULL, NULL, cmd, environ);
            if (rc != 0) {
                fprintf(stderr, "spawn_floor: cannot run %s: %s\n", cmd[0], strerror(rc));
                /* Reap what is still running, then give up. */
                while (reap_one() >= 0) {
                }
                return 1;
            }
            started++;
            running++;
            continue;
        }
        int r = reap_one();
        if (r < 0) {
            fprintf(stderr, "spawn_floor: waitpid: %s\n", strerror(errno));
            return 1;
        }
        running--;
        failed += r;
    }
    double secs = now_seconds() - t0;

    printf("spawn_floor: %ld tasks in %.3f s: %.0f tasks/s\n", n, secs, secs > 0 ? (double)n / secs : 0.0);
    if (failed > 0) {
        fprintf(stderr, "spawn_floor: %ld of %ld tasks failed\n", failed, n);
        return 1;
    }
    return 0;
}
