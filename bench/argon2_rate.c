/*
 * The independent argon2 ceiling for the token benchmark: libargon2 (the reference
 * implementation) verifying a PHC string, one busy thread per online core, for SECONDS.
 * The hash is the server's own (raw_rates hash), so the parameters are the same; a hash
 * libargon2 refuses makes the driver fail rather than measure something else.
 * Prints `key=value` lines like raw_rates: threads, per_s, cpu_ms_per_op.
 *
 * Build: cc -O2 -pthread -o argon2_rate bench/argon2_rate.c -largon2
 * Usage: argon2_rate PHC PASSWORD SECONDS
 */
#include <argon2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct job {
    const char *phc;
    const char *password;
    unsigned long done;
    double cpu_seconds;
    int failed;
};

static atomic_int stop;

static double seconds_of(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *verify_loop(void *arg) {
    struct job *job = arg;
    double cpu_start = seconds_of(CLOCK_THREAD_CPUTIME_ID);
    size_t length = strlen(job->password);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        if (argon2id_verify(job->phc, job->password, length) != ARGON2_OK) {
            job->failed = 1;
            break;
        }
        job->done++;
    }
    job->cpu_seconds = seconds_of(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: argon2_rate PHC PASSWORD SECONDS\n");
        return 2;
    }
    const char *phc = argv[1], *password = argv[2];
    double seconds = atof(argv[3]);
    int result = argon2id_verify(phc, password, strlen(password));
    if (result != ARGON2_OK) {
        fprintf(stderr, "argon2_rate: libargon2 rejects the hash: %s\n",
                argon2_error_message(result));
        return 1;
    }
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1 || threads > 256) threads = 1;
    pthread_t ids[256];
    struct job jobs[256];
    double start = seconds_of(CLOCK_MONOTONIC);
    for (long i = 0; i < threads; i++) {
        jobs[i] = (struct job){.phc = phc, .password = password};
        if (pthread_create(&ids[i], NULL, verify_loop, &jobs[i]) != 0) {
            perror("argon2_rate: pthread_create");
            return 1;
        }
    }
    struct timespec wait = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&wait, NULL);
    atomic_store(&stop, 1);
    unsigned long done = 0;
    double cpu = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        if (jobs[i].failed) {
            fprintf(stderr, "argon2_rate: a verify failed\n");
            return 1;
        }
        done += jobs[i].done;
        cpu += jobs[i].cpu_seconds;
    }
    double wall = seconds_of(CLOCK_MONOTONIC) - start;
    printf("threads=%ld\n", threads);
    printf("per_s=%.1f\n", done / wall);
    printf("cpu_ms_per_op=%.3f\n", 1000 * cpu / (done ? done : 1));
    return 0;
}
