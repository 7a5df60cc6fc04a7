/*
 * The example program `make demo` profiles: a small word-frequency pipeline with a few clearly hot functions
 * (tokenizing, hashing with an inlined hash function, merge sorting, a CRC in a second thread), about 1.5 s of
 * CPU.
 * Build: cc -O2 -g -fno-omit-frame-pointer -pthread -o demo examples/demo.c
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_LEN (4u << 20)
#define TABLE_SIZE (1u << 17) /* more than the 55,986 distinct words the generator can make */

struct entry {
	char word[16];
	uint32_t count;
	int used;
};

static struct entry table[TABLE_SIZE];
static char *text;
static uint64_t rng = 88172645463325252ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Pseudo-random "text": words of 2-6 letters from a 6-letter alphabet, so words repeat. */
__attribute__((noinline)) static void generate_text(void)
{
	text = malloc(TEXT_LEN + 1);
	size_t i = 0;
	while (i < TEXT_LEN) {
		unsigned len = 2 + next_random() % 5;
		for (unsigned k = 0; k < len && i < TEXT_LEN; k++)
			text[i++] = "etaoin"[next_random() % 6];
		if (i < TEXT_LEN)
			text[i++] = ' ';
	}
	text[TEXT_LEN] = 0;
}

static inline uint32_t hash_word(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

static inline int same_word(const char *a, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != w[i])
			return 0;
	return !a[n];
}

__attribute__((noinline)) static void count_word(const char *w, size_t n)
{
	uint32_t h = hash_word(w, n) & (TABLE_SIZE - 1);
	for (;;) {
		struct entry *e = &table[h];
		if (!e->used) {
			memcpy(e->word, w, n);
			e->word[n] = 0;
			e->used = 1;
			e->count = 1;
			return;
		}
		if (same_word(e->word, w, n)) {
			e->count++;
			return;
		}
		h = (h + 1) & (TABLE_SIZE - 1);
	}
}

__attribute__((noinline)) static size_t tokenize_and_count(const char *s)
{
	size_t words = 0;
	while (*s) {
		while (*s == ' ')
			s++;
		const char *start = s;
		while (*s && *s != ' ')
			s++;
		if (s > start && s - start < 16) {
			count_word(start, (size_t)(s - start));
			words++;
		}
	}
	return words;
}

/* Most frequent first, then alphabetical. */
__attribute__((noinline)) static int by_count(const struct entry *x, const struct entry *y)
{
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	for (int i = 0; i < 16; i++)
		if (x->word[i] != y->word[i] || !x->word[i])
			return (unsigned char)x->word[i] - (unsigned char)y->word[i];
	return 0;
}

static void merge_sort(struct entry *v, struct entry *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;
	merge_sort(v, tmp, h);
	merge_sort(v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = by_count(&v[i], &v[j]) <= 0 ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	for (k = 0; k < n; k++)
		v[k] = tmp[k];
}

__attribute__((noinline)) static void sort_results(struct entry *out, size_t n)
{
	struct entry *tmp = malloc(n * sizeof(*tmp));
	for (int round = 0; round < 24; round++) {
		for (size_t i = 0; i < n; i++)
			out[i] = table[i];
		merge_sort(out, tmp, n);
	}
	free(tmp);
}

__attribute__((noinline)) static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static void *checksum_thread(void *arg)
{
	uint32_t *out = arg;
	for (int i = 0; i < 8; i++)
		*out += crc32_of((const unsigned char *)text, TEXT_LEN);
	return NULL;
}

int main(void)
{
	generate_text();
	uint32_t crc = 0;
	pthread_t t;
	pthread_create(&t, NULL, checksum_thread, &crc);
	size_t words = 0;
	for (int pass = 0; pass < 12; pass++)
		words += tokenize_and_count(text);
	static struct entry sorted[TABLE_SIZE];
	sort_results(sorted, TABLE_SIZE);
	pthread_join(t, NULL);
	printf("%zu words; most frequent: '%s' x%u; crc %08x\n", words, sorted[0].word, sorted[0].count, crc);
	free(text);
	return 0;
}
