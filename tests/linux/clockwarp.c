/* clockwarp SECONDS: the guest side of keel's Linux clock test (tests/e2e/clock.sh). One thread
 * per online CPU, each pinned to its CPU, reads CLOCK_MONOTONIC and CLOCK_REALTIME in a tight
 * loop for SECONDS of CLOCK_MONOTONIC time. Before each read a thread takes the latest value any
 * thread published for that clock; after it, it publishes its own as the new maximum. A read
 * below the value taken before it went backwards across CPUs. Prints one line:
 *   KEEL-CLOCK: CPUS cpus, SECONDS s, READS reads, WARPS steps back (largest NS ns)
 * and exits 0 (1 on a usage or system error). Built static into the test initramfs. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static _Atomic uint64_t published[2]; /* CLOCK_MONOTONIC, CLOCK_REALTIME */
static _Atomic uint64_t reads, warps, largest;
static uint64_t end_ns;

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check(int which, clockid_t id, uint64_t *last)
{
	uint64_t before = atomic_load(&published[which]);
	uint64_t now = now_ns(id);
	if (now < before) {
		atomic_fetch_add(&warps, 1);
		uint64_t step = before - now, big = atomic_load(&largest);
		while (step > big && !atomic_compare_exchange_weak(&largest, &big, step))
			;
	}
	uint64_t cur = atomic_load(&published[which]);
	while (now > cur && !atomic_compare_exchange_weak(&published[which], &cur, now))
		;
	*last = now;
}

static void *reader(void *arg)
{
	long cpu = (long)arg;
	cpu_set_t set;
	uint64_t n = 0, mono = 0, real = 0;

	CPU_ZERO(&set);
	CPU_SET((int)cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("clockwarp: sched_setaffinity");
		exit(1);
	}
	do {
		check(0, CLOCK_MONOTONIC, &mono);
		check(1, CLOCK_REALTIME, &real);
		n++;
	} while (mono < end_ns);
	atomic_fetch_add(&reads, n);
	return NULL;
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int seconds = argc == 2 ? atoi(argv[1]) : 0;
	pthread_t t[MAX_THREADS];

	if (seconds <= 0 || cpus < 1 || cpus > MAX_THREADS) {
		fprintf(stderr, "usage: clockwarp SECONDS (1 to %d CPUs online)\n", MAX_THREADS);
		return 1;
	}
	end_ns = now_ns(CLOCK_MONOTONIC) + (uint64_t)seconds * 1000000000u;
	for (long i = 0; i < cpus; i++)
		if (pthread_create(&t[i], NULL, reader, (void *)i)) {
			perror("clockwarp: pthread_create");
			return 1;
		}
	for (long i = 0; i < cpus; i++)
		pthread_join(t[i], NULL);
	printf("KEEL-CLOCK: %ld cpus, %d s, %llu reads, %llu steps back (largest %llu ns)\n", cpus,
	       seconds, (unsigned long long)reads, (unsigned long long)warps,
	       (unsigned long long)largest);
	return 0;
}
