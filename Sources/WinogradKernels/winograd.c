// Winograd F(4×4, 3×3) (Lavin and Gray, 2016, points 0, ±1, ±2, ∞): each 4×4 output tile of each channel comes from a
// 6×6 input patch in 36 products instead of 144. Per block of tiles, a thread transforms the patches (V = Bᵀ d B),
// multiplies them by the transformed weights (U = G g Gᵀ) in 36 small matrix products, and transforms back (Aᵀ M A).
#include "WinogradKernels.h"
#include <immintrin.h>
#include <string.h>

// libgomp's entry points (the OpenMP runtime oneDNN is built with; CDNNL links it).
void GOMP_parallel(void (*function)(void *), void *data, unsigned threads, unsigned flags);
void GOMP_barrier(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);

enum { ROWS = 6, COLUMNS = 16, MAXIMUM_TILES = 24, SHARED_TILES = 96 };

int bs_winograd_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int bs_winograd_check(const bs_winograd_problem *p) {
    if (p->batch < 1 || p->in_channels < 8 || p->out_channels < 8) return 1;
    if (p->in_channels % 8 != 0 || p->out_channels % 8 != 0) return 2;
    if (p->out_height < 1 || p->out_width < 1 || p->in_height < 1 || p->in_width < 1) return 3;
    if (p->pad_top < 0 || p->pad_top > 2 || p->pad_left < 0 || p->pad_left > 2) return 4;
    int pad_bottom = p->out_height + 2 - p->in_height - p->pad_top, pad_right = p->out_width + 2 - p->in_width - p->pad_left;
    if (pad_bottom < 0 || pad_bottom > 2 || pad_right < 0 || pad_right > 2) return 5;
    return 0;
}

static int padded_out_channels(const bs_winograd_problem *p) { return (p->out_channels + COLUMNS - 1) / COLUMNS * COLUMNS; }

size_t bs_winograd_weight_count(const bs_winograd_problem *p) { return (size_t)36 * p->in_channels * padded_out_channels(p); }

// Layout: [36][out_channels / 16][in_channels][16], zeros past out_channels. U = G g Gᵀ in double precision.
void bs_winograd_transform_weights(const bs_winograd_problem *p, const float *plain, float *transformed) {
    static const double g[6][3] = {
        {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
    };
    int cin = p->in_channels, cout = p->out_channels, panels = padded_out_channels(p) / COLUMNS;
    memset(transformed, 0, bs_winograd_weight_count(p) * sizeof(float));
    for (int o = 0; o < cout; o++) {
        for (int i = 0; i < cin; i++) {
            const float *w = plain + ((size_t)o * cin + i) * 9;
            double half[6][3];
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 3; c++) half[r][c] = g[r][0] * w[c] + g[r][1] * w[3 + c] + g[r][2] * w[6 + c];
            for (int r = 0; r < 6; r++) {
                for (int c = 0; c < 6; c++) {
                    double u = half[r][0] * g[c][0] + half[r][1] * g[c][1] + half[r][2] * g[c][2];
                    size_t xi = (size_t)(r * 6 + c);
                    transformed[((xi * panels + o / COLUMNS) * cin + i) * COLUMNS + o % COLUMNS] = (float)u;
                }
            }
        }
    }
}

static int tiles_across(const bs_winograd_problem *p) { return (p->out_width + 3) / 4; }
static int tiles_down(const bs_winograd_problem *p) { return (p->out_height + 3) / 4; }
static long total_tiles(const bs_winograd_problem *p) { return (long)p->batch * tiles_across(p) * tiles_down(p); }

// Few tiles (fewer than a full block per thread, as in one image's 14×14 or 7×7 layers): the threads share one block
// of all the tiles and split its output channels, so that each reads only its share of the transformed weights, not
// all of them. Else, or past SHARED_TILES (its scratch grows with them), each thread takes whole blocks in turn.
static int splits_channels(const bs_winograd_problem *p, int threads) {
    long total = total_tiles(p);
    return threads > 1 && total < (long)threads * MAXIMUM_TILES && total <= SHARED_TILES;
}

// Tiles per block: all of them when the threads split the channels; else at most MAXIMUM_TILES, fewer when that
// leaves a thread without a block.
static int block_tiles(const bs_winograd_problem *p, int threads) {
    long total = total_tiles(p);
    if (splits_channels(p, threads)) return (int)total;
    long share = (total + threads - 1) / threads;
    return (int)(share < MAXIMUM_TILES ? share : MAXIMUM_TILES);
}

// Floats of one block's transformed inputs (V) and products (M).
static size_t block_scratch(const bs_winograd_problem *p, int tiles) {
    return (size_t)36 * tiles * (p->in_channels + padded_out_channels(p));
}

int bs_winograd_threads(void) { return omp_get_max_threads(); }

size_t bs_winograd_scratch_count(const bs_winograd_problem *p, int threads) {
    if (threads < 1) threads = 1;
    return block_scratch(p, block_tiles(p, threads)) * (size_t)(splits_channels(p, threads) ? 1 : threads);
}

// Bᵀ x for one column of 6: the input transform's rows.
#define INPUT_TRANSFORM(d0, d1, d2, d3, d4, d5, t0, t1, t2, t3, t4, t5) do {                         \
    __m256 a_ = _mm256_sub_ps(d4, d2), b_ = _mm256_sub_ps(d3, d1);                                      \
    t0 = _mm256_fmadd_ps(_mm256_set1_ps(4), d0, _mm256_fmadd_ps(_mm256_set1_ps(-5), d2, d4));          \
    __m256 c_ = _mm256_fmadd_ps(_mm256_set1_ps(-4), d2, d4), e_ = _mm256_fmadd_ps(_mm256_set1_ps(-4), d1, d3); \
    t1 = _mm256_add_ps(c_, e_);                                                                         \
    t2 = _mm256_sub_ps(c_, e_);                                                                         \
    t3 = _mm256_fmadd_ps(_mm256_set1_ps(2), b_, a_);                                                    \
    t4 = _mm256_fmadd_ps(_mm256_set1_ps(-2), b_, a_);                                                   \
    t5 = _mm256_fmadd_ps(_mm256_set1_ps(4), d1, _mm256_fmadd_ps(_mm256_set1_ps(-5), d3, d5));          \
} while (0)

// Aᵀ x for one column of 6: the output transform's rows.
#define OUTPUT_TRANSFORM(m0, m1, m2, m3, m4, m5, y0, y1, y2, y3) do {                                   \
    __m256 s12_ = _mm256_add_ps(m1, m2), d12_ = _mm256_sub_ps(m1, m2);                                  \
    __m256 s34_ = _mm256_add_ps(m3, m4), d34_ = _mm256_sub_ps(m3, m4);                                  \
    y0 = _mm256_add_ps(_mm256_add_ps(m0, s12_), s34_);                                                  \
    y1 = _mm256_fmadd_ps(_mm256_set1_ps(2), d34_, d12_);                                                \
    y2 = _mm256_fmadd_ps(_mm256_set1_ps(4), s34_, s12_);                                                \
    y3 = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8), d34_, d12_), m5);                             \
} while (0)

// V[ξ][row][channel] for the tile at output (y, x) of image n, channel block cb; rows are `tiles` apart per ξ.
__attribute__((target("avx2,fma")))
static void transform_input(const bs_winograd_problem *p, const float *source, int n, int y, int x, int cb,
                            float *v, int tiles) {
    int top = y - p->pad_top, left = x - p->pad_left, blocks = p->in_channels / 8;
    const float *image = source + (((size_t)n * blocks + cb) * p->in_height) * p->in_width * 8;
    __m256 d[6][6];
    int inside = top >= 0 && left >= 0 && top + 6 <= p->in_height && left + 6 <= p->in_width;
    for (int r = 0; r < 6; r++) {
        for (int c = 0; c < 6; c++) {
            int row = top + r, column = left + c;
            d[r][c] = (inside || (row >= 0 && row < p->in_height && column >= 0 && column < p->in_width))
                ? _mm256_load_ps(image + ((size_t)row * p->in_width + column) * 8) : _mm256_setzero_ps();
        }
    }
    __m256 t[6][6];
    for (int c = 0; c < 6; c++)
        INPUT_TRANSFORM(d[0][c], d[1][c], d[2][c], d[3][c], d[4][c], d[5][c], t[0][c], t[1][c], t[2][c], t[3][c], t[4][c], t[5][c]);
    size_t stride = (size_t)tiles * p->in_channels;
    for (int r = 0; r < 6; r++) {
        __m256 o[6];
        INPUT_TRANSFORM(t[r][0], t[r][1], t[r][2], t[r][3], t[r][4], t[r][5], o[0], o[1], o[2], o[3], o[4], o[5]);
        for (int c = 0; c < 6; c++) _mm256_store_ps(v + (size_t)(r * 6 + c) * stride + cb * 8, o[c]);
    }
}

// Y = Aᵀ M A plus bias (and ReLU) for one tile and output channel block, written where it lies inside the output.
__attribute__((target("avx2,fma")))
static void transform_output(const bs_winograd_problem *p, const float *m, int tiles, int columns, const float *bias,
                             float *destination, int n, int y, int x, int ob) {
    size_t stride = (size_t)tiles * columns;
    __m256 t[4][6];
    for (int c = 0; c < 6; c++) {
        __m256 k[6];
        for (int r = 0; r < 6; r++) k[r] = _mm256_load_ps(m + (size_t)(r * 6 + c) * stride + ob * 8);
        OUTPUT_TRANSFORM(k[0], k[1], k[2], k[3], k[4], k[5], t[0][c], t[1][c], t[2][c], t[3][c]);
    }
    __m256 b = bias ? _mm256_loadu_ps(bias + ob * 8) : _mm256_setzero_ps(), zero = _mm256_setzero_ps();
    int blocks = p->out_channels / 8;
    float *image = destination + (((size_t)n * blocks + ob) * p->out_height) * p->out_width * 8;
    for (int r = 0; r < 4; r++) {
        if (y + r >= p->out_height) break;
        __m256 o[4];
        OUTPUT_TRANSFORM(t[r][0], t[r][1], t[r][2], t[r][3], t[r][4], t[r][5], o[0], o[1], o[2], o[3]);
        for (int c = 0; c < 4 && x + c < p->out_width; c++) {
            __m256 value = _mm256_add_ps(o[c], b);
            if (p->relu) value = _mm256_max_ps(value, zero);
            _mm256_store_ps(image + ((size_t)(y + r) * p->out_width + x + c) * 8, value);
        }
    }
}

// C[rows][16] = A[rows][k] B[k][16] for rows ≤ 6: A's rows `lda` apart, B packed 16 wide, C's rows `ldc` apart.
// Inlined with a constant `rows`, the unused accumulators go.
__attribute__((target("avx2,fma"), always_inline))
static inline void multiply_rows(const float *a, size_t lda, const float *b, int k, float *c, size_t ldc, const int rows) {
    __m256 c0[6], c1[6];
    for (int r = 0; r < rows; r++) c0[r] = c1[r] = _mm256_setzero_ps();
    for (int i = 0; i < k; i++) {
        __m256 b0 = _mm256_load_ps(b + i * 16), b1 = _mm256_load_ps(b + i * 16 + 8);
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(a + r * lda + i);
            c0[r] = _mm256_fmadd_ps(x, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(x, b1, c1[r]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm256_store_ps(c + r * ldc, c0[r]);
        _mm256_store_ps(c + r * ldc + 8, c1[r]);
    }
}

// C[count][16] = A[count][k] B[k][16], six rows at a time and the rest in one smaller product.
__attribute__((target("avx2,fma")))
static void multiply(const float *a, size_t lda, const float *b, int k, float *c, size_t ldc, int count) {
    int row = 0;
    for (; row + ROWS <= count; row += ROWS) multiply_rows(a + row * lda, lda, b, k, c + row * ldc, ldc, ROWS);
    const float *ar = a + row * lda;
    float *cr = c + row * ldc;
    switch (count - row) {
    case 5: multiply_rows(ar, lda, b, k, cr, ldc, 5); break;
    case 4: multiply_rows(ar, lda, b, k, cr, ldc, 4); break;
    case 3: multiply_rows(ar, lda, b, k, cr, ldc, 3); break;
    case 2: multiply_rows(ar, lda, b, k, cr, ldc, 2); break;
    case 1: multiply_rows(ar, lda, b, k, cr, ldc, 1); break;
    default: break;
    }
}

typedef struct {
    const bs_winograd_problem *problem;
    const float *source, *weights, *bias;
    float *destination, *scratch;
    int tiles;
} job;

// The tile's image and its output row and column.
static void locate(const bs_winograd_problem *p, long tile, int *n, int *y, int *x) {
    int across = tiles_across(p), per_image = across * tiles_down(p), within = (int)(tile % per_image);
    *n = (int)(tile / per_image);
    *y = within / across * 4;
    *x = within % across * 4;
}

// V for `count` tiles from `first`, laid out for `tiles`: of their (tile, input channel block) pairs, the `part`-th
// and every `parts`-th after it.
static void transform_input_tiles(const job *j, long first, int count, int tiles, float *v, int part, int parts) {
    const bs_winograd_problem *p = j->problem;
    int blocks = p->in_channels / 8;
    for (long index = part; index < (long)count * blocks; index += parts) {
        int t = (int)(index / blocks), cb = (int)(index % blocks), n, y, x;
        locate(p, first + t, &n, &y, &x);
        transform_input(p, j->source, n, y, x, cb, v + (size_t)t * p->in_channels, tiles);
    }
}

// M of the same tiles for the output channels of panels [first_panel, end_panel), and their outputs.
static void multiply_and_transform_output(const job *j, long first, int count, int tiles, const float *v, float *m,
                                          int first_panel, int end_panel) {
    const bs_winograd_problem *p = j->problem;
    int cin = p->in_channels, columns = padded_out_channels(p), panels = columns / COLUMNS;
    for (int xi = 0; xi < 36; xi++) {
        const float *vx = v + (size_t)xi * tiles * cin;
        float *mx = m + (size_t)xi * tiles * columns;
        for (int panel = first_panel; panel < end_panel; panel++)
            multiply(vx, cin, j->weights + ((size_t)xi * panels + panel) * cin * COLUMNS, cin, mx + panel * COLUMNS, columns, count);
    }
    int end_block = end_panel * (COLUMNS / 8) < p->out_channels / 8 ? end_panel * (COLUMNS / 8) : p->out_channels / 8;
    for (int t = 0; t < count; t++) {
        int n, y, x;
        locate(p, first + t, &n, &y, &x);
        for (int ob = first_panel * (COLUMNS / 8); ob < end_block; ob++)
            transform_output(p, m + (size_t)t * columns, tiles, columns, j->bias, j->destination, n, y, x, ob);
    }
}

// One thread's share when the threads split the tiles: blocks of `tiles` consecutive tiles (image by image, row by
// row), taken in turn, each with its own scratch.
static void run_tiles(void *argument) {
    const job *j = argument;
    const bs_winograd_problem *p = j->problem;
    int thread = omp_get_thread_num(), threads = omp_get_num_threads(), tiles = j->tiles;
    long total = total_tiles(p), blocks = (total + tiles - 1) / tiles;
    float *v = j->scratch + block_scratch(p, tiles) * (size_t)thread;
    float *m = v + (size_t)36 * tiles * p->in_channels;
    for (long block = thread; block < blocks; block += threads) {
        long first = block * tiles;
        int count = (int)(total - first < tiles ? total - first : tiles);
        transform_input_tiles(j, first, count, tiles, v, 0, 1);
        multiply_and_transform_output(j, first, count, tiles, v, m, 0, padded_out_channels(p) / COLUMNS);
    }
}

// One thread's share when the threads split the channels: a part of the input transforms, then, once all are made,
// the products and output transforms of its consecutive share of the panels.
static void run_channels(void *argument) {
    const job *j = argument;
    const bs_winograd_problem *p = j->problem;
    int thread = omp_get_thread_num(), threads = omp_get_num_threads(), tiles = j->tiles;
    int panels = padded_out_channels(p) / COLUMNS;
    float *v = j->scratch, *m = v + (size_t)36 * tiles * p->in_channels;
    transform_input_tiles(j, 0, tiles, tiles, v, thread, threads);
    GOMP_barrier();
    multiply_and_transform_output(j, 0, tiles, tiles, v, m, panels * thread / threads, panels * (thread + 1) / threads);
}

void bs_winograd_run(const bs_winograd_problem *p, const float *source, const float *weights, const float *bias,
                     float *destination, float *scratch, int threads) {
    if (threads < 1) threads = 1;
    // The blocks are sized for `threads` threads. A smaller team takes more blocks each, with the scratch of as many;
    // or, splitting the channels, larger shares of them.
    job j = {p, source, weights, bias, destination, scratch, block_tiles(p, threads)};
    GOMP_parallel(splits_channels(p, threads) ? run_channels : run_tiles, &j, (unsigned)threads, 0);
}
