/*
 * gen.c - the benchmark's data: a deterministic CSV of crop records, and the
 * answers every tool must give on it.
 *
 *   gen N OUT.csv [SEED]
 *
 * writes OUT.csv (N records), OUT.csv.ref (rows, sum of output_t, rows kept
 * by W1's filter, errors the VALIDATE rules must find) and OUT.csv.w1.csv
 * (W1's group table, exact).  The same N and SEED give the same bytes on
 * every machine: the generator has its own PRNG (xoshiro256** seeded by
 * splitmix64) and formats numbers from integers, never through the C
 * library's floating-point printing.
 *
 * Columns: year (2015..2024), district (20 names, some with spaces), crop
 * (5), area_mu (1.00..2000.00), output_t (area_mu x U(0.25, 0.75), 3
 * decimals), revenue_cny (output_t x crop price x U(0.9, 1.1), integer),
 * firms (1..200), note (20 short texts, 7 of which need CSV quoting: commas,
 * doubled quotes; one is empty).  1M rows are about 58.6 MB.
 *
 * The answers are computed from the same integers that are printed, so they
 * equal what a correct CSV reader finds: a decimal string and k/1000.0 round
 * to the same double.  Files are written under a temporary name and renamed,
 * so an interrupted run never leaves a short file that looks finished.
 * This program must never depend on anything but the C library.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const districts[20] = {
    "Dongcheng", "Xicheng",  "Chaoyang", "Fengtai", "Shijingshan",     "Haidian", "Mentougou",
    "Fangshan",  "Tongzhou", "Shunyi",   "Changping", "Daxing",        "Huairou", "Pinggu",
    "Miyun",     "Yanqing",  "Binhai New Area", "Nankai", "Hexi",      "Wuqing",
};
static const char *const crops[5] = {"wheat", "maize", "rice", "soybean", "potato"};
static const double prices[5] = {2400, 2200, 2800, 5200, 1200};
/* As they appear in the file, quoting included. */
static const char *const notes[20] = {
    "",
    "ok",
    "ok",
    "ok",
    "checked",
    "irrigated",
    "rainfed",
    "n/a",
    "\"irrigated, drip\"",
    "\"late frost, replanted\"",
    "\"grade \"\"A\"\"\"",
    "\"said \"\"fine\"\", moved on\"",
    "organic",
    "pilot plot",
    "survey 2nd round",
    "\"hail damage, partial\"",
    "\"co-op \"\"Green Field\"\"\"",
    "estimate",
    "revised",
    "\"missing firms, imputed\"",
};

/* W1 keeps output_t > 456.0; VALIDATE's area_mu minimum is 2 (in cents). */
#define W1_THRESHOLD_MILLI 456000
#define VALIDATE_MIN_AREA_CENTS 200

static uint64_t rng_s[4];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(void)
{
    uint64_t result = rotl(rng_s[1] * 5, 7) * 9;
    uint64_t t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return result;
}

/* Uniform in [0, n): the high 32 bits scaled, bias below 1e-5 for n < 2^17. */
static uint32_t next_below(uint32_t n)
{
    return (uint32_t)(((next_u64() >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1) with 53 bits. */
static double next_unit(void)
{
    return (double)(next_u64() >> 11) * 0x1.0p-53;
}

/* ---- output buffer ---------------------------------------------------- */

static char obuf[1 << 20];
static size_t olen;
static FILE *ofile;
static int owrite_failed;

static void flush_out(void)
{
    if (olen && fwrite(obuf, 1, olen, ofile) != olen) owrite_failed = 1;
    olen = 0;
}

static void put_str(const char *s)
{
    size_t n = strlen(s);
    memcpy(obuf + olen, s, n);
    olen += n;
}

static void put_uint(uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) obuf[olen++] = tmp[--n];
}

/* v / 10^decimals with exactly `decimals` digits after the point. */
static void put_fixed(uint64_t v, int decimals)
{
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++) scale *= 10;
    put_uint(v / scale);
    obuf[olen++] = '.';
    uint64_t frac = v % scale;
    for (int i = decimals - 1; i >= 0; i--) {
        obuf[olen + (size_t)i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    olen += (size_t)decimals;
}

/* ---- answers ----------------------------------------------------------- */

typedef struct group {
    uint64_t n;
    uint64_t sum_milli;
    double sum_yield;
} group_t;

static group_t groups[20][10];

static int cmp_district(const void *a, const void *b)
{
    return strcmp(districts[*(const int *)a], districts[*(const int *)b]);
}

static FILE *open_tmp(const char *path, char *tmp, size_t cap)
{
    snprintf(tmp, cap, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) perror(tmp);
    return f;
}

static int close_rename(FILE *f, const char *tmp, const char *path)
{
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "gen: cannot write %s\n", tmp);
        remove(tmp);
        return 1;
    }
    if (rename(tmp, path) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: gen N OUT.csv [SEED]\n");
        return 2;
    }
    char *end;
    uint64_t nrows = strtoull(argv[1], &end, 10);
    if (*end || nrows == 0) {
        fprintf(stderr, "gen: bad row count '%s'\n", argv[1]);
        return 2;
    }
    uint64_t seed = 20240101;
    if (argc == 4) {
        seed = strtoull(argv[3], &end, 10);
        if (*end) {
            fprintf(stderr, "gen: bad seed '%s'\n", argv[3]);
            return 2;
        }
    }
    const char *out = argv[2];
    size_t plen = strlen(out) + 16;
    char *tmp = malloc(plen), *side = malloc(plen);
    if (!tmp || !side) return 4;

    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng_s[i] = splitmix64(&x);

    ofile = open_tmp(out, tmp, plen);
    if (!ofile) return 1;
    put_str("year,district,crop,area_mu,output_t,revenue_cny,firms,note\n");

    uint64_t sum_milli = 0, kept = 0, small_plots = 0, bytes = 0;
    for (uint64_t i = 0; i < nrows; i++) {
        uint32_t year = next_below(10);
        uint32_t d = next_below(20);
        uint32_t c = next_below(5);
        uint64_t area_cents = 100 + next_below(199901);
        uint64_t out_milli = (uint64_t)llround((double)area_cents * 10.0 * (0.25 + 0.5 * next_unit()));
        double output_t = (double)out_milli / 1000.0;
        uint64_t revenue = (uint64_t)(output_t * prices[c] * (0.9 + 0.2 * next_unit()));
        uint32_t firms = 1 + next_below(200);
        uint32_t note = next_below(20);

        put_uint(2015 + year);
        obuf[olen++] = ',';
        put_str(districts[d]);
        obuf[olen++] = ',';
        put_str(crops[c]);
        obuf[olen++] = ',';
        put_fixed(area_cents, 2);
        obuf[olen++] = ',';
        put_fixed(out_milli, 3);
        obuf[olen++] = ',';
        put_uint(revenue);
        obuf[olen++] = ',';
        put_uint(firms);
        obuf[olen++] = ',';
        put_str(notes[note]);
        obuf[olen++] = '\n';
        if (olen > sizeof obuf - 256) {
            bytes += olen;
            flush_out();
        }

        sum_milli += out_milli;
        if (area_cents < VALIDATE_MIN_AREA_CENTS) small_plots++;
        if (out_milli > W1_THRESHOLD_MILLI) {
            group_t *g = &groups[d][year];
            kept++;
            g->n++;
            g->sum_milli += out_milli;
            g->sum_yield += output_t / ((double)area_cents / 100.0);
        }
    }
    bytes += olen;
    flush_out();
    if (owrite_failed) {
        fprintf(stderr, "gen: cannot write %s\n", tmp);
        fclose(ofile);
        remove(tmp);
        return 1;
    }
    if (close_rename(ofile, tmp, out)) return 1;

    snprintf(side, plen, "%s.w1.csv", out);
    FILE *f = open_tmp(side, tmp, plen);
    if (!f) return 1;
    int order[20];
    for (int i = 0; i < 20; i++) order[i] = i;
    qsort(order, 20, sizeof order[0], cmp_district);
    fprintf(f, "district,year,n,sum_output_t,mean_yield\n");
    for (int k = 0; k < 20; k++) {
        for (int y = 0; y < 10; y++) {
            const group_t *g = &groups[order[k]][y];
            if (!g->n) continue;
            fprintf(f, "%s,%d,%" PRIu64 ",%" PRIu64 ".%03" PRIu64 ",%.17g\n", districts[order[k]],
                    2015 + y, g->n, g->sum_milli / 1000, g->sum_milli % 1000,
                    g->sum_yield / (double)g->n);
        }
    }
    if (close_rename(f, tmp, side)) return 1;

    /* Written last: its presence says the other two files are complete. */
    snprintf(side, plen, "%s.ref", out);
    f = open_tmp(side, tmp, plen);
    if (!f) return 1;
    fprintf(f, "rows %" PRIu64 "\n", nrows);
    fprintf(f, "bytes %" PRIu64 "\n", bytes);
    fprintf(f, "seed %" PRIu64 "\n", seed);
    fprintf(f, "sum_output_t %" PRIu64 ".%03" PRIu64 "\n", sum_milli / 1000, sum_milli % 1000);
    fprintf(f, "w1_kept %" PRIu64 "\n", kept);
    fprintf(f, "validate_errors %" PRIu64 "\n", small_plots);
    if (close_rename(f, tmp, side)) return 1;
    free(tmp);
    free(side);
    return 0;
}
