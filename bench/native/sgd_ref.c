/*
 * Native reference for the SGD epoch benchmark: the same biased-MF SGD loop as
 * assembly/sgd.ts (same update order, same f32 operations in the same order, 128-bit vectors,
 * no fused multiply-add), so that its speed can be compared with the WASM kernel on identical
 * input and its final state checked for bit-identity.
 *
 *   e    = r − (((mu + b_u) + b_i) + p_u·q_i)
 *   b_u ← b_u + lrBu·(e − regBu·b_u);  b_i ← b_i + lrBi·(e − regBi·b_i)
 *   p_u ← (1 − lrP·regP)·p_u + (lrP·e)·q_i;  q_i ← (1 − lrQ·regQ)·q_i + (lrQ·e)·p_u_old
 *
 * Build: gcc -O3 -march=native -ffp-contract=off -o sgd_ref sgd_ref.c -lm
 * Usage: sgd_ref <problem.bin> <epochs>
 * Input (little endian): "MRSGD01\0"; u32 n, nUsers, nMovies, stride; f32 mu, lrBu, lrBi, lrP,
 *   lrQ, regBu, regBi, regP, regQ; i32 user[n]; i32 movie[n]; f32 rating[n];
 *   f32 P[nUsers·stride]; f32 Q[nMovies·stride]; f32 bu[nUsers]; f32 bi[nMovies].
 * Output (stdout, JSON): {"epochSeconds":[...],"trainRmse":x,"stateHash":"xxxxxxxx"} where
 *   trainRmse = sqrt(sse of the last epoch / n) and stateHash is FNV-1a over the 32-bit words of
 *   P, Q, bu, bi after the last epoch.
 */
#define _POSIX_C_SOURCE 200112L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
  v4f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

/* Chunk c of 4 floats adds into accumulator c mod 2; then (l0 + l1) + (l2 + l3), as vec.ts. */
static inline float dot(const float *a, const float *b, uint32_t n) {
  v4f acc0 = {0, 0, 0, 0}, acc1 = {0, 0, 0, 0};
  uint32_t f = 0;
  for (; f + 8 <= n; f += 8) {
    acc0 += load4(a + f) * load4(b + f);
    acc1 += load4(a + f + 4) * load4(b + f + 4);
  }
  if (f < n) acc0 += load4(a + f) * load4(b + f);
  v4f acc = acc0 + acc1;
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

struct params {
  float mu, lrBu, lrBi, lrP, lrQ, regBu, regBi, regP, regQ;
};

static double epoch(uint32_t n, const int32_t *user, const int32_t *movie, const float *rating, float *P,
                    float *Q, float *bu, float *bi, uint32_t stride, const struct params *k) {
  const float keepP = 1.0f - k->lrP * k->regP;
  const float keepQ = 1.0f - k->lrQ * k->regQ;
  const v4f kp = {keepP, keepP, keepP, keepP};
  const v4f kq = {keepQ, keepQ, keepQ, keepQ};
  double sse = 0;
  for (uint32_t j = 0; j < n; j++) {
    const int32_t u = user[j], i = movie[j];
    float *p = P + (size_t)u * stride;
    float *q = Q + (size_t)i * stride;
    const float bu0 = bu[u], bi0 = bi[i];
    const float e = rating[j] - (((k->mu + bu0) + bi0) + dot(p, q, stride));
    sse += (double)e * (double)e;
    bu[u] = bu0 + k->lrBu * (e - k->regBu * bu0);
    bi[i] = bi0 + k->lrBi * (e - k->regBi * bi0);
    const float gP = k->lrP * e, gQ = k->lrQ * e;
    const v4f gp = {gP, gP, gP, gP};
    const v4f gq = {gQ, gQ, gQ, gQ};
    for (uint32_t f = 0; f < stride; f += 4) {
      const v4f pv = load4(p + f), qv = load4(q + f);
      store4(p + f, kp * pv + gp * qv);
      store4(q + f, kq * qv + gq * pv);
    }
  }
  return sse;
}

static void *read_array(FILE *in, size_t count, size_t size, const char *what) {
  void *p = aligned_alloc(64, (count * size + 63) / 64 * 64 + 64);
  if (!p || fread(p, size, count, in) != count) {
    fprintf(stderr, "sgd_ref: cannot read %s (%zu entries)\n", what, count);
    exit(2);
  }
  return p;
}

static uint32_t fnv1a(uint32_t h, const void *data, size_t words) {
  const uint32_t *w = data;
  for (size_t x = 0; x < words; x++) h = (h ^ w[x]) * 16777619u;
  return h;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sgd_ref <problem.bin> <epochs>\n");
    return 2;
  }
  const int epochs = atoi(argv[2]);
  FILE *in = fopen(argv[1], "rb");
  if (!in || epochs < 1) {
    fprintf(stderr, "sgd_ref: cannot open %s or bad epoch count %s\n", argv[1], argv[2]);
    return 2;
  }
  char magic[8];
  uint32_t dims[4];
  struct params k;
  if (fread(magic, 1, 8, in) != 8 || memcmp(magic, "MRSGD01", 8) != 0 || fread(dims, 4, 4, in) != 4 ||
      fread(&k, 4, 9, in) != 9) {
    fprintf(stderr, "sgd_ref: %s is not a problem file\n", argv[1]);
    return 2;
  }
  const uint32_t n = dims[0], nUsers = dims[1], nMovies = dims[2], stride = dims[3];
  int32_t *user = read_array(in, n, 4, "user");
  int32_t *movie = read_array(in, n, 4, "movie");
  float *rating = read_array(in, n, 4, "rating");
  float *P = read_array(in, (size_t)nUsers * stride, 4, "P");
  float *Q = read_array(in, (size_t)nMovies * stride, 4, "Q");
  float *bu = read_array(in, nUsers, 4, "bu");
  float *bi = read_array(in, nMovies, 4, "bi");
  fclose(in);

  printf("{\"epochSeconds\":[");
  double sse = 0;
  for (int e = 0; e < epochs; e++) {
    const double t0 = now();
    sse = epoch(n, user, movie, rating, P, Q, bu, bi, stride, &k);
    printf("%s%.6f", e ? "," : "", now() - t0);
  }
  uint32_t h = 2166136261u;
  h = fnv1a(h, P, (size_t)nUsers * stride);
  h = fnv1a(h, Q, (size_t)nMovies * stride);
  h = fnv1a(h, bu, nUsers);
  h = fnv1a(h, bi, nMovies);
  printf("],\"trainRmse\":%.9f,\"stateHash\":\"%08x\"}\n", sqrt(sse / n), h);
  return 0;
}
