/* xoshiro256** (Blackman & Vigna 2018) and SplitMix64, written for PolicyLab from the paper's definition
 * (the algorithm is public domain). Prints the expected numbers of xoshiro256starstar.json:
 *     cc -O2 -std=c99 -o xoshiro_reference xoshiro256starstar_reference.c && ./xoshiro_reference */
#include <stdint.h>
#include <stdio.h>
static uint64_t rotate_left(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t xoshiro_next(uint64_t s[4]) {
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}
static uint64_t splitmix_next(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
int main(void) {
    uint64_t s[4] = {1, 2, 3, 4};
    printf("state {1,2,3,4}:");
    for (int i = 0; i < 10; i++) printf(" %llu", (unsigned long long)xoshiro_next(s));
    printf("\n");
    uint64_t x = 42, t[4];
    for (int i = 0; i < 4; i++) t[i] = splitmix_next(&x);
    printf("splitmix(42) state: %llu %llu %llu %llu\n", (unsigned long long)t[0], (unsigned long long)t[1],
           (unsigned long long)t[2], (unsigned long long)t[3]);
    printf("outputs:");
    for (int i = 0; i < 5; i++) printf(" %llu", (unsigned long long)xoshiro_next(t));
    printf("\n");
    return 0;
}
