// Winograd F(4×4, 3×3) (Lavin and Gray, 2016, points 0, ±1, ±2, ∞): each 4×4 output tile of each channel comes from a
// 6×6 input patch in 36 products instead of 144. Per block of tiles, a thread transforms the patches (V = Bᵀ d B),
// multiplies them by the transformed weights (U = G g Gᵀ) in 36 small matrix products, and transforms back (Aᵀ M A).
#include "WinogradKernels.h"
#include <immintrin.h>
#include <string.h>

// libgomp's entry points (the OpenMP runtime oneDNN is built with; CDNNL links it).
void GOMP_parallel(void (*function)(void *), void *data, unsigned threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);

enum { ROWS = 6, COLUMNS = 16, MAXIMUM_TILES = 24 };

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

// Tiles per block: at most MAXIMUM_TILES, fewer when that leaves a thread without a block; a multiple of ROWS.
static int block_tiles(const bs_winograd_problem *p, int threads) {
    long total = (long)p->batch * tiles_across(p) * tiles_down(p);
    long share = (total + threads - 1) / threads;
    long tiles = share < MAXIMUM_TILES ? share : MAXIMUM_TILES;
    return (int)((tiles + ROWS - 1) / ROWS * ROWS);
}

static size_t thread_scratch(const bs_winograd_problem *p, int tiles) {
    return (size_t)36 * tiles * (p->in_channels + padded_out_channels(p));
}

int bs_winograd_threads(void) { return omp_get_max_threads(); }

size_t bs_winograd_scratch_count(const bs_winograd_problem *p, int threads) {
    return thread_scratch(p, block_tiles(p, threads)) * (size_t)threads;
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

// C[6][16] = A[6][k] B[k][16]: A's rows `lda` apart, B packed 16 wide, C's rows `ldc` apart.
__attribute__((target("avx2,fma")))
static void multiply(const float *a, size_t lda, const float *b, int k, float *c, size_t ldc) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int i = 0; i < k; i++) {
        __m256 b0 = _mm256_load_ps(b + i * 16), b1 = _mm256_load_ps(b + i * 16 + 8), x;
        x = _mm256_broadcast_ss(a + i);           c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + lda + i);     c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2 * lda + i); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3 * lda + i); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4 * lda + i); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5 * lda + i); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    _mm256_store_ps(c, c00);           _mm256_store_ps(c + 8, c01);
    _mm256_store_ps(c + ldc, c10);     _mm256_store_ps(c + ldc + 8, c11);
    _mm256_store_ps(c + 2 * ldc, c20); _mm256_store_ps(c + 2 * ldc + 8, c21);
    _mm256_store_ps(c + 3 * ldc, c30); _mm256_store_ps(c + 3 * ldc + 8, c31);
    _mm256_store_ps(c + 4 * ldc, c40); _mm256_store_ps(c + 4 * ldc + 8, c41);
    _mm256_store_ps(c + 5 * ldc, c50); _mm256_store_ps(c + 5 * ldc + 8, c51);
}

typedef struct {
    const bs_winograd_problem *problem;
    const float *source, *weights, *bias;
    float *destination, *scratch;
    int tiles;
} job;

// One thread's share: blocks of `tiles` consecutive tiles (image by image, row by row), taken in turn.
static void run_share(void *argument) {
    const job *j = argument;
    const bs_winograd_problem *p = j->problem;
    int thread = omp_get_thread_num(), threads = omp_get_num_threads(), tiles = j->tiles;
    int across = tiles_across(p), per_image = across * tiles_down(p), columns = padded_out_channels(p);
    int cin = p->in_channels, panels = columns / COLUMNS;
    long total = (long)p->batch * per_image, blocks = (total + tiles - 1) / tiles;
    float *v = j->scratch + thread_scratch(p, tiles) * (size_t)thread;
    float *m = v + (size_t)36 * tiles * cin;
    for (long block = thread; block < blocks; block += threads) {
        long first = block * tiles;
        int count = (int)(total - first < tiles ? total - first : tiles);
        for (int t = 0; t < count; t++) {
            long tile = first + t;
            int n = (int)(tile / per_image), within = (int)(tile % per_image);
            for (int cb = 0; cb < cin / 8; cb++)
                transform_input(p, j->source, n, within / across * 4, within % across * 4, cb, v + (size_t)t * cin, tiles);
        }
        int rows = (count + ROWS - 1) / ROWS * ROWS;
        // The rows past the last tile are multiplied too (and their products dropped): make them zeros, not stale bytes.
        for (int xi = 0; xi < 36 && rows > count; xi++)
            memset(v + ((size_t)xi * tiles + count) * cin, 0, (size_t)(rows - count) * cin * sizeof(float));
        for (int xi = 0; xi < 36; xi++) {
            const float *vx = v + (size_t)xi * tiles * cin;
            float *mx = m + (size_t)xi * tiles * columns;
            for (int panel = 0; panel < panels; panel++) {
                const float *u = j->weights + ((size_t)xi * panels + panel) * cin * COLUMNS;
                for (int row = 0; row < rows; row += ROWS)
                    multiply(vx + (size_t)row * cin, cin, u, cin, mx + (size_t)row * columns + panel * COLUMNS, columns);
            }
        }
        for (int t = 0; t < count; t++) {
            long tile = first + t;
            int n = (int)(tile / per_image), within = (int)(tile % per_image);
            for (int ob = 0; ob < p->out_channels / 8; ob++)
                transform_output(p, m + (size_t)t * columns, tiles, columns, j->bias, j->destination, n, within / across * 4,
                                 within % across * 4, ob);
        }
    }
}

void bs_winograd_run(const bs_winograd_problem *p, const float *source, const float *weights, const float *bias,
                     float *destination, float *scratch, int threads) {
    if (threads < 1) threads = 1;
    // The blocks are sized for `threads` threads; a smaller team takes more blocks each, with the scratch of as many.
    job j = {p, source, weights, bias, destination, scratch, block_tiles(p, threads)};
    GOMP_parallel(run_share, &j, (unsigned)threads, 0);
}
