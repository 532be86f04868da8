// Fixed-argument C wrappers over the few libvips calls Blindspot makes (Swift cannot call variadic C).
// Not a policy layer: format sniffing, limits and the order of steps live in Swift (Sources/Imaging).
// This header does not include vips.h; Swift sees an opaque image pointer. Functions returning int give 0 on success.
#ifndef VIPS_SHIM_H
#define VIPS_SHIM_H

#include <stddef.h>

typedef struct vs_image vs_image;

/// Starts libvips the first time it is called, from any thread (later calls only return the outcome):
/// untrusted loaders blocked, every loader blocked except the four buffer loaders below, operation cache off.
int vs_start(void);

/// Reads the header of an encoded image; pixels are decoded later, when first needed.
/// The bytes are not copied: they must stay valid until every image made from the result is released.
/// All four stop on corrupt or truncated data. `shrink` (1, 2, 4 or 8) is JPEG's decode-time downscale.
/// `sequential` non-zero decodes top to bottom as pixels are asked for (so a killed evaluation stops the decoder
/// itself); rotating such an image fails, so only images that need no rotation are loaded that way.
int vs_load_jpeg(const void *bytes, size_t length, int shrink, int sequential, vs_image **out);
int vs_load_png(const void *bytes, size_t length, int sequential, vs_image **out);
int vs_load_webp(const void *bytes, size_t length, int sequential, vs_image **out);
int vs_load_gif(const void *bytes, size_t length, int sequential, vs_image **out);

int vs_width(vs_image *image);
int vs_height(vs_image *image);
int vs_bands(vs_image *image);
int vs_has_alpha(vs_image *image);
/// The EXIF orientation (1–8; 1, also when absent, means upright as stored).
int vs_orientation(vs_image *image);

/// Applies EXIF orientation (vips_autorot).
int vs_autorotate(vs_image *in, vs_image **out);
/// Converts any interpretation (grey, CMYK, 16-bit) to sRGB, keeping an alpha band if there is one.
int vs_to_srgb(vs_image *in, vs_image **out);
int vs_cast_to_uchar(vs_image *in, vs_image **out);
/// Composites onto a uniform background of `background` in every band and drops alpha.
int vs_flatten(vs_image *in, double background, vs_image **out);
/// One line of text rendered with Pango (vips_text; `text` is Pango markup, so escape <, > and &): a one-band uchar
/// image of coverage, 0 (none) to 255 (ink), as tall as `font` ("sans 10") needs at `dpi`.
int vs_text(const char *text, const char *font, int dpi, vs_image **out);

/// Decodes every pixel (interleaved bands, row-major) straight into destination, which must hold exactly
/// width × height × bands bytes of a uchar image. With `seconds` > 0 the pixels are computed in strips on the
/// calling thread and the work stops between strips once it has taken longer (`timed_out` is then set to 1);
/// otherwise libvips' thread pool computes them.
int vs_write_pixels(vs_image *image, void *destination, size_t capacity, double seconds, int *timed_out);

void vs_release(vs_image *image);

/// Takes libvips' error text and clears it, atomically (libvips keeps one error buffer for all threads).
/// Free the result with vs_free.
char *vs_take_error(void);
void vs_free(void *memory);

/// Encoding, for making test images: wraps a copy of uchar pixels, sets integer metadata, saves to a buffer
/// (free it with vs_free).
int vs_image_from_pixels(const void *pixels, size_t length, int width, int height, int bands, vs_image **out);
void vs_set_int(vs_image *image, const char *name, int value);
int vs_save_jpeg(vs_image *image, int quality, void **buffer, size_t *length);
int vs_save_png(vs_image *image, void **buffer, size_t *length);
int vs_save_gif(vs_image *image, void **buffer, size_t *length);
int vs_save_webp_lossless(vs_image *image, void **buffer, size_t *length);

/// Transformations, for Sources/Transforms: one libvips operation each, every parameter chosen by the caller.

/// Turns clockwise by `quarter_turns` × 90° (1, 2 or 3), moving pixels without resampling (vips_rot).
int vs_rot(vs_image *in, int quarter_turns, vs_image **out);
/// Mirrors left to right, or top to bottom when `vertical` is non-zero (vips_flip).
int vs_flip(vs_image *in, int vertical, vs_image **out);
/// Resamples through the forward map X = a (x + idx) + b (y + idy) + odx, Y = c (x + idx) + d (y + idy) + ody,
/// where pixel centres sit at integer coordinates, into an output of `width` × `height` (vips_affine).
/// `interpolator` is a libvips nickname ("bilinear", "bicubic"); outside the input is `background` in every band.
int vs_affine(vs_image *in, double a, double b, double c, double d, double idx, double idy, double odx, double ody,
              int width, int height, const char *interpolator, double background, vs_image **out);
/// 255 − x in every band of a uchar image (vips_invert).
int vs_invert(vs_image *in, vs_image **out);
/// a[i] × x + b[i] in band i (`count` is 1, for all bands, or the band count) as float, or, when `to_uchar` is
/// non-zero, as uchar: clipped to 0...255 and truncated toward zero (vips_linear).
int vs_linear(vs_image *in, const double *a, const double *b, int count, int to_uchar, vs_image **out);
/// sRGB to CIE LCh, three float bands: L 0...100, C, h in degrees (vips_colourspace).
int vs_srgb_to_lch(vs_image *in, vs_image **out);
/// Gaussian blur of standard deviation `sigma` pixels, computed in float (libvips' integer kernels change a flat
/// area's level by up to 2%); float output (vips_gaussblur).
int vs_gaussblur(vs_image *in, double sigma, vs_image **out);
/// Convolution with a one-row mask of `count` coefficients whose sum is divided by `scale`, computed in float
/// (libvips' integer path is off by up to 1%), float output; the edges are extended by copying the outermost
/// pixels, so the output keeps the input's size (vips_conv).
int vs_convolve_row(vs_image *in, const double *coefficients, int count, double scale, vs_image **out);
/// The `index`-th smallest value (from 0) of every `width` × `height` window, band by band, edges copied:
/// the median at index width × height / 2, the maximum (a dilation) at width × height − 1 (vips_rank).
int vs_rank(vs_image *in, int width, int height, int index, vs_image **out);
/// Sobel gradient magnitude; uchar in, uchar out (vips_sobel).
int vs_sobel(vs_image *in, vs_image **out);

#endif
