// Winograd F(4×4, 3×3) (Lavin and Gray, 2016, points 0, ±1, ±2, ∞): each 4×4 output tile of each channel comes from a
// 6×6 input patch in 36 products instead of 144; and F(m, r) along one axis for 1×r and r×1 kernels. Per block of tiles,
// a thread transforms the patches (V = Bᵀ d B), multiplies them by the transformed weights (U = G g Gᵀ) in one small
// matrix product per point, and transforms back (Aᵀ M A).
#include "WinogradKernels.h"
#include <immintrin.h>
#include <string.h>

// libgomp's entry points (the OpenMP runtime oneDNN is built with; CDNNL links it).
void GOMP_parallel(void (*function)(void *), void *data, unsigned threads, unsigned flags);
void GOMP_barrier(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);

enum { ROWS = 6, COLUMNS = 16, MAXIMUM_TILES = 24, SHARED_TILES = 96, MAXIMUM_TAPS = 7, MAXIMUM_POINTS = 8 };

int bs_winograd_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// 1×r and r×1 kernels run along one axis: their taps r, or 0 for 3×3.
static int line_taps(const bs_winograd_problem *p) {
    return p->kernel_height == 1 ? p->kernel_width : p->kernel_width == 1 ? p->kernel_height : 0;
}

// Outputs per tile along the axis, m of F(m, r).
static int line_outputs(int taps) { return taps <= 5 ? 4 : 2; }

static int points(const bs_winograd_problem *p) {
    int taps = line_taps(p);
    return taps ? line_outputs(taps) + taps - 1 : 36;
}

int bs_winograd_points(const bs_winograd_problem *p) { return points(p); }

static int tile_height(const bs_winograd_problem *p) { return line_taps(p) ? (p->kernel_width == 1 ? line_outputs(p->kernel_height) : 1) : 4; }
static int tile_width(const bs_winograd_problem *p) { return line_taps(p) ? (p->kernel_height == 1 ? line_outputs(p->kernel_width) : 1) : 4; }

int bs_winograd_check(const bs_winograd_problem *p) {
    if (p->batch < 1 || p->in_channels < 8 || p->out_channels < 8) return 1;
    if (p->in_channels % 8 != 0 || p->out_channels % 8 != 0) return 2;
    if (p->out_height < 1 || p->out_width < 1 || p->in_height < 1 || p->in_width < 1) return 3;
    int kh = p->kernel_height, kw = p->kernel_width, taps = line_taps(p);
    if (!(kh == 3 && kw == 3) && !(taps >= 3 && taps <= MAXIMUM_TAPS)) return 6;
    if (p->pad_top < 0 || p->pad_top >= kh || p->pad_left < 0 || p->pad_left >= kw) return 4;
    int pad_bottom = p->out_height + kh - 1 - p->in_height - p->pad_top, pad_right = p->out_width + kw - 1 - p->in_width - p->pad_left;
    if (pad_bottom < 0 || pad_bottom >= kh || pad_right < 0 || pad_right >= kw) return 5;
    return 0;
}

static int padded_out_channels(const bs_winograd_problem *p) { return (p->out_channels + COLUMNS - 1) / COLUMNS * COLUMNS; }

size_t bs_winograd_weight_count(const bs_winograd_problem *p) { return (size_t)points(p) * p->in_channels * padded_out_channels(p); }

// F(m, r) along a line (Toom-Cook; the correlation is the transpose of the polynomial product, as in Lavin and Gray):
// y = Aᵀ [(G g) ⊙ (Bᵀ d)] with finite points 0, ±1, ±2, ±1/2 as needed and ∞, at most 8 points (F(4, 5), F(2, 7)).
// Aᵀ[i][j] = p_jⁱ, G[j][k] = p_jᵏ / f_j and Bᵀ = f_j × the transpose of the inverse Vandermonde matrix,
// f_j = Π_{l≠j} (p_j - p_l) over the finite points (1 for ∞) keeping Bᵀ's entries small dyadic numbers; the point ∞
// picks the highest coefficients.
typedef struct {
    int points, outputs;
    float bt[MAXIMUM_POINTS][MAXIMUM_POINTS], at[4][MAXIMUM_POINTS];
    double g[MAXIMUM_POINTS][MAXIMUM_TAPS];
} line_transforms;

static double power(double base, int exponent) {
    double result = 1;
    for (int e = 0; e < exponent; e++) result *= base;
    return result;
}

static void make_line_transforms(int taps, line_transforms *t) {
    static const double finite[MAXIMUM_POINTS - 1] = {0, 1, -1, 2, -2, 0.5, -0.5};
    int m = line_outputs(taps), n = m + taps - 1;
    t->points = n;
    t->outputs = m;
    // Gauss-Jordan on [V | I], V[j][k] = p_jᵏ for the finite points, V[n-1] = the unit row of the highest power.
    double v[MAXIMUM_POINTS][2 * MAXIMUM_POINTS];
    for (int j = 0; j < n; j++) {
        for (int k = 0; k < n; k++) {
            v[j][k] = j < n - 1 ? power(finite[j], k) : (k == n - 1);
            v[j][n + k] = j == k;
        }
    }
    for (int column = 0; column < n; column++) {
        int pivot = column;
        for (int row = column + 1; row < n; row++)
            if (__builtin_fabs(v[row][column]) > __builtin_fabs(v[pivot][column])) pivot = row;
        for (int k = 0; k < 2 * n; k++) {
            double swap = v[column][k];
            v[column][k] = v[pivot][k];
            v[pivot][k] = swap;
        }
        double scale = v[column][column];
        for (int k = 0; k < 2 * n; k++) v[column][k] /= scale;
        for (int row = 0; row < n; row++) {
            if (row == column || v[row][column] == 0) continue;
            double factor = v[row][column];
            for (int k = 0; k < 2 * n; k++) v[row][k] -= factor * v[column][k];
        }
    }
    for (int j = 0; j < n; j++) {
        double f = 1;
        for (int l = 0; l < n - 1; l++)
            if (j < n - 1 && l != j) f *= finite[j] - finite[l];
        for (int k = 0; k < n; k++) t->bt[j][k] = (float)(v[k][n + j] * f);
        for (int k = 0; k < taps; k++) t->g[j][k] = j < n - 1 ? power(finite[j], k) / f : (k == taps - 1);
        for (int i = 0; i < m; i++) t->at[i][j] = (float)(j < n - 1 ? power(finite[j], i) : (i == m - 1));
    }
}

// Layout: [points][out_channels / 16][in_channels][16], zeros past out_channels. U = G g Gᵀ (or G g along a line) in
// double precision.
void bs_winograd_transform_weights(const bs_winograd_problem *p, const float *plain, float *transformed) {
    static const double g[6][3] = {
        {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
    };
    int cin = p->in_channels, cout = p->out_channels, panels = padded_out_channels(p) / COLUMNS, taps = line_taps(p);
    int count = points(p);
    line_transforms line;
    if (taps) make_line_transforms(taps, &line);
    memset(transformed, 0, bs_winograd_weight_count(p) * sizeof(float));
    for (int o = 0; o < cout; o++) {
        for (int i = 0; i < cin; i++) {
            double u[36];
            if (taps) {
                const float *w = plain + ((size_t)o * cin + i) * taps;
                for (int j = 0; j < line.points; j++) {
                    u[j] = 0;
                    for (int k = 0; k < taps; k++) u[j] += line.g[j][k] * w[k];
                }
            } else {
                const float *w = plain + ((size_t)o * cin + i) * 9;
                double half[6][3];
                for (int r = 0; r < 6; r++)
                    for (int c = 0; c < 3; c++) half[r][c] = g[r][0] * w[c] + g[r][1] * w[3 + c] + g[r][2] * w[6 + c];
                for (int r = 0; r < 6; r++)
                    for (int c = 0; c < 6; c++) u[r * 6 + c] = half[r][0] * g[c][0] + half[r][1] * g[c][1] + half[r][2] * g[c][2];
            }
            for (int xi = 0; xi < count; xi++)
                transformed[(((size_t)xi * panels + o / COLUMNS) * cin + i) * COLUMNS + o % COLUMNS] = (float)u[xi];
        }
    }
}

static int tiles_across(const bs_winograd_problem *p) { return (p->out_width + tile_width(p) - 1) / tile_width(p); }
static int tiles_down(const bs_winograd_problem *p) { return (p->out_height + tile_height(p) - 1) / tile_height(p); }
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
    return (size_t)points(p) * tiles * (p->in_channels + padded_out_channels(p));
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

// V[ξ][row][channel] along a line for the tile at output (y, x): Bᵀ d, `n` points (a constant where inlined).
__attribute__((target("avx2,fma"), always_inline))
static inline void transform_input_line_points(const bs_winograd_problem *p, const line_transforms *t, const float *source, int n,
                                               int y, int x, int cb, float *v, int tiles, const int points) {
    int top = y - p->pad_top, left = x - p->pad_left, blocks = p->in_channels / 8, across = p->kernel_height == 1;
    const float *image = source + (((size_t)n * blocks + cb) * p->in_height) * p->in_width * 8;
    __m256 d[MAXIMUM_POINTS];
    for (int k = 0; k < points; k++) {
        int row = across ? top : top + k, column = across ? left + k : left;
        d[k] = row >= 0 && row < p->in_height && column >= 0 && column < p->in_width
            ? _mm256_load_ps(image + ((size_t)row * p->in_width + column) * 8) : _mm256_setzero_ps();
    }
    size_t stride = (size_t)tiles * p->in_channels;
    for (int j = 0; j < points; j++) {
        __m256 sum = _mm256_setzero_ps();
        for (int k = 0; k < points; k++)
            if (t->bt[j][k] != 0) sum = _mm256_fmadd_ps(_mm256_set1_ps(t->bt[j][k]), d[k], sum);
        _mm256_store_ps(v + (size_t)j * stride + cb * 8, sum);
    }
}

__attribute__((target("avx2,fma")))
static void transform_input_line(const bs_winograd_problem *p, const line_transforms *t, const float *source, int n, int y,
                                 int x, int cb, float *v, int tiles) {
    switch (t->points) {
    case 6: transform_input_line_points(p, t, source, n, y, x, cb, v, tiles, 6); break;
    case 8: transform_input_line_points(p, t, source, n, y, x, cb, v, tiles, 8); break;
    default: transform_input_line_points(p, t, source, n, y, x, cb, v, tiles, t->points); break;
    }
}

// Y = Aᵀ M plus bias (and ReLU) along a line, for one tile and output channel block.
__attribute__((target("avx2,fma")))
static void transform_output_line(const bs_winograd_problem *p, const line_transforms *t, const float *m, int tiles,
                                  int columns, const float *bias, float *destination, int n, int y, int x, int ob) {
    size_t stride = (size_t)tiles * columns;
    __m256 k[MAXIMUM_POINTS];
    for (int j = 0; j < t->points; j++) k[j] = _mm256_load_ps(m + (size_t)j * stride + ob * 8);
    __m256 b = bias ? _mm256_loadu_ps(bias + ob * 8) : _mm256_setzero_ps(), zero = _mm256_setzero_ps();
    int blocks = p->out_channels / 8, across = p->kernel_height == 1;
    float *image = destination + (((size_t)n * blocks + ob) * p->out_height) * p->out_width * 8;
    for (int i = 0; i < t->outputs; i++) {
        int row = across ? y : y + i, column = across ? x + i : x;
        if (row >= p->out_height || column >= p->out_width) break;
        __m256 value = b;
        for (int j = 0; j < t->points; j++)
            if (t->at[i][j] != 0) value = _mm256_fmadd_ps(_mm256_set1_ps(t->at[i][j]), k[j], value);
        if (p->relu) value = _mm256_max_ps(value, zero);
        _mm256_store_ps(image + ((size_t)row * p->out_width + column) * 8, value);
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
    /// Along a line (a 1×r or r×1 kernel), its transforms; else unused.
    line_transforms line;
} job;

// The tile's image and its output row and column.
static void locate(const bs_winograd_problem *p, long tile, int *n, int *y, int *x) {
    int across = tiles_across(p), per_image = across * tiles_down(p), within = (int)(tile % per_image);
    *n = (int)(tile / per_image);
    *y = within / across * tile_height(p);
    *x = within % across * tile_width(p);
}

// V for `count` tiles from `first`, laid out for `tiles`: of their (tile, input channel block) pairs, the `part`-th
// and every `parts`-th after it.
static void transform_input_tiles(const job *j, long first, int count, int tiles, float *v, int part, int parts) {
    const bs_winograd_problem *p = j->problem;
    int blocks = p->in_channels / 8;
    for (long index = part; index < (long)count * blocks; index += parts) {
        int t = (int)(index / blocks), cb = (int)(index % blocks), n, y, x;
        locate(p, first + t, &n, &y, &x);
        if (line_taps(p)) transform_input_line(p, &j->line, j->source, n, y, x, cb, v + (size_t)t * p->in_channels, tiles);
        else transform_input(p, j->source, n, y, x, cb, v + (size_t)t * p->in_channels, tiles);
    }
}

// M of the same tiles for the output channels of panels [first_panel, end_panel), and their outputs.
static void multiply_and_transform_output(const job *j, long first, int count, int tiles, const float *v, float *m,
                                          int first_panel, int end_panel) {
    const bs_winograd_problem *p = j->problem;
    int cin = p->in_channels, columns = padded_out_channels(p), panels = columns / COLUMNS;
    for (int xi = 0; xi < points(p); xi++) {
        const float *vx = v + (size_t)xi * tiles * cin;
        float *mx = m + (size_t)xi * tiles * columns;
        for (int panel = first_panel; panel < end_panel; panel++)
            multiply(vx, cin, j->weights + ((size_t)xi * panels + panel) * cin * COLUMNS, cin, mx + panel * COLUMNS, columns, count);
    }
    int end_block = end_panel * (COLUMNS / 8) < p->out_channels / 8 ? end_panel * (COLUMNS / 8) : p->out_channels / 8;
    for (int t = 0; t < count; t++) {
        int n, y, x;
        locate(p, first + t, &n, &y, &x);
        for (int ob = first_panel * (COLUMNS / 8); ob < end_block; ob++) {
            if (line_taps(p)) transform_output_line(p, &j->line, m + (size_t)t * columns, tiles, columns, j->bias, j->destination, n, y, x, ob);
            else transform_output(p, m + (size_t)t * columns, tiles, columns, j->bias, j->destination, n, y, x, ob);
        }
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
    float *m = v + (size_t)points(p) * tiles * p->in_channels;
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
    float *v = j->scratch, *m = v + (size_t)points(p) * tiles * p->in_channels;
    transform_input_tiles(j, 0, tiles, tiles, v, thread, threads);
    GOMP_barrier();
    multiply_and_transform_output(j, 0, tiles, tiles, v, m, panels * thread / threads, panels * (thread + 1) / threads);
}

void bs_winograd_run(const bs_winograd_problem *p, const float *source, const float *weights, const float *bias,
                     float *destination, float *scratch, int threads) {
    if (threads < 1) threads = 1;
    // The blocks are sized for `threads` threads. A smaller team takes more blocks each, with the scratch of as many;
    // or, splitting the channels, larger shares of them.
    job j = {p, source, weights, bias, destination, scratch, block_tiles(p, threads), {0}};
    if (line_taps(p)) make_line_transforms(line_taps(p), &j.line);
    GOMP_parallel(splits_channels(p, threads) ? run_channels : run_tiles, &j, (unsigned)threads, 0);
}
