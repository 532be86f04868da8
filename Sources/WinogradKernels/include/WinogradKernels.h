// Winograd convolution for CPUs with AVX2 and FMA, where oneDNN 2.6 offers none: F(4×4, 3×3) for 3×3 and F(m, r) along
// one axis for 1×r and r×1 stride-1 layers, on channel-blocked activations (nChw8c), weights transformed once.
#ifndef BLINDSPOT_WINOGRAD_KERNELS_H
#define BLINDSPOT_WINOGRAD_KERNELS_H
#include <stddef.h>

/// One stride-1 undilated convolution, 3×3, 1×r or r×1 (3 ≤ r ≤ 7). Channel counts are multiples of 8; the output
/// is (in_height + pad_top + pad_bottom - kernel_height + 1) × (in_width + pad_left + pad_right - kernel_width + 1).
typedef struct {
    int batch;
    int in_channels;
    int out_channels;
    int in_height;
    int in_width;
    int out_height;
    int out_width;
    int kernel_height;
    int kernel_width;
    int pad_top;
    int pad_left;
    /// 1: max(0, x) after the bias; 0: the bias only.
    int relu;
} bs_winograd_problem;

/// 1 when this CPU runs the kernels (AVX2 and FMA), else 0.
int bs_winograd_supported(void);

/// 0 when `problem` is one the kernels run (channels multiples of 8, positive sizes, a kernel they take, output size
/// consistent with its padding of less than the kernel on each side), else a nonzero code.
int bs_winograd_check(const bs_winograd_problem *problem);

/// Transform points: 36 for 3×3 (F(4×4, 3×3)), m + r - 1 for F(m, r) along a line (m = 4 up to 5 taps, else 2).
int bs_winograd_points(const bs_winograd_problem *problem);

/// Floats of the transformed weights.
size_t bs_winograd_weight_count(const bs_winograd_problem *problem);

/// Transforms plain weights [out][in][kernel_height][kernel_width] into the kernels' layout (`bs_winograd_weight_count` floats).
void bs_winograd_transform_weights(const bs_winograd_problem *problem, const float *plain, float *transformed);

/// Floats of scratch memory that `bs_winograd_run` needs for `threads` threads.
size_t bs_winograd_scratch_count(const bs_winograd_problem *problem, int threads);

/// OpenMP's maximum number of threads now, as oneDNN's primitives use.
int bs_winograd_threads(void);

/// Runs the convolution on at most `threads` threads of OpenMP's team: `source` and `destination` are nChw8c, `bias`
/// has out_channels floats (or is NULL), `scratch` has `bs_winograd_scratch_count(problem, threads)` floats, 32-byte
/// aligned.
void bs_winograd_run(const bs_winograd_problem *problem, const float *source, const float *weights, const float *bias,
                     float *destination, float *scratch, int threads);

#endif
