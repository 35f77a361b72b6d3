/*
** The hand-written RFC 3339 formatter of timestamps against the C
** library's gmtime_r, over boundaries (epoch, leap days, centuries, year
** 9999) and a sweep of pseudo-random instants, negative ones included.
*/
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asl_int.h"

#include "check.h"

static void expect(int64_t ms) {
  char got[40], want[80];
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  time_t t = (time_t)secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(ms - secs * 1000));
  orci_format_timestamp(ms, got);
  nchecks++;
  if (strcmp(got, want) != 0) {
    nfailed++;
    fprintf(stderr, "%lld: got %s, want %s\n", (long long)ms, got, want);
  }
}

int main(void) {
  static const int64_t fixed[] = {0,
                                  1,
                                  -1,
                                  999,
                                  -999,
                                  -1000,
                                  86399999,
                                  86400000,
                                  -86400001,
                                  951782400000,    /* 2000-02-29 */
                                  951868799999,    /* its last ms */
                                  4107542400000,   /* 2100-03-01 */
                                  1700000000123,   /* 2023-11-14 */
                                  -62135596800000, /* 0001-01-01 */
                                  253402300799999 /* 9999-12-31 */};
  uint64_t x = 88172645463325252ull;
  size_t i;
  for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    expect(fixed[i]);
  for (i = 0; i < 200000; i++) { /* xorshift over years 0001..9999 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    expect((int64_t)(x % 315537897600000ull) - 62135596800000ll);
  }
  printf("test_time: %d checks, %d failed\n", nchecks, nfailed);
  return nfailed ? 1 : 0;
}
