// The C side of vips_shim.h: each function is one libvips call with its options spelled out.
// Not a place for decisions; Sources/Imaging decides what to call and in which order.
#include <string.h>
#include <vips/vips.h>
#include "vips_shim.h"

#define IMAGE(pointer) ((VipsImage *) (pointer))
#define OUT(pointer) ((VipsImage **) (pointer))

static void allow_loader(const char *nickname) {
    GType type = vips_type_find("VipsOperation", nickname);
    if (type != 0) {
        vips_operation_block_set(g_type_name(type), FALSE);
    }
}

int vs_start(void) {
    static gsize state = 0; /* 0 not yet, 1 started, 2 failed */
    if (g_once_init_enter(&state)) {
        gsize outcome = 2;
        if (VIPS_INIT("blindspot") == 0) {
            vips_block_untrusted_set(TRUE);
            vips_operation_block_set("VipsForeignLoad", TRUE);
            allow_loader("jpegload_buffer");
            allow_loader("pngload_buffer");
            allow_loader("webpload_buffer");
            allow_loader("gifload_buffer");
            /* Every input is a fresh buffer, so a cached operation can never be reused; it would only keep
               decoded pixels (and a pointer into a buffer the caller has freed) alive. */
            vips_cache_set_max(0);
            vips_cache_set_max_mem(0);
            outcome = 1;
        }
        g_once_init_leave(&state, outcome);
    }
    return state == 1 ? 0 : -1;
}

/* Random access decodes the whole image at the first pixel asked for, into memory (never a temporary file);
   sequential access decodes strip by strip as the pixels are asked for, top to bottom. */
#define ACCESS(sequential) ((sequential) ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM)

int vs_load_jpeg(const void *bytes, size_t length, int shrink, int sequential, vs_image **out) {
    return vips_jpegload_buffer((void *) bytes, length, OUT(out), "shrink", shrink, "access", ACCESS(sequential),
                                "fail_on", VIPS_FAIL_ON_ERROR, "memory", !(sequential), NULL);
}

int vs_load_png(const void *bytes, size_t length, int sequential, vs_image **out) {
    return vips_pngload_buffer((void *) bytes, length, OUT(out), "access", ACCESS(sequential),
                               "fail_on", VIPS_FAIL_ON_ERROR, "memory", !(sequential), NULL);
}

int vs_load_webp(const void *bytes, size_t length, int sequential, vs_image **out) {
    return vips_webpload_buffer((void *) bytes, length, OUT(out), "access", ACCESS(sequential),
                                "fail_on", VIPS_FAIL_ON_ERROR, "memory", !(sequential), NULL);
}

int vs_load_gif(const void *bytes, size_t length, int sequential, vs_image **out) {
    return vips_gifload_buffer((void *) bytes, length, OUT(out), "n", 1, "page", 0, "access", ACCESS(sequential),
                               "fail_on", VIPS_FAIL_ON_ERROR, "memory", !(sequential), NULL);
}

int vs_width(vs_image *image) { return vips_image_get_width(IMAGE(image)); }
int vs_height(vs_image *image) { return vips_image_get_height(IMAGE(image)); }
int vs_bands(vs_image *image) { return vips_image_get_bands(IMAGE(image)); }
int vs_has_alpha(vs_image *image) { return vips_image_hasalpha(IMAGE(image)); }
int vs_orientation(vs_image *image) { return vips_image_get_orientation(IMAGE(image)); }

int vs_autorotate(vs_image *in, vs_image **out) {
    return vips_autorot(IMAGE(in), OUT(out), NULL);
}

int vs_to_srgb(vs_image *in, vs_image **out) {
    return vips_colourspace(IMAGE(in), OUT(out), VIPS_INTERPRETATION_sRGB, NULL);
}

int vs_cast_to_uchar(vs_image *in, vs_image **out) {
    return vips_cast(IMAGE(in), OUT(out), VIPS_FORMAT_UCHAR, NULL);
}

int vs_flatten(vs_image *in, double background, vs_image **out) {
    double backgrounds[3] = {background, background, background};
    VipsArrayDouble *array = vips_array_double_new(backgrounds, 3);
    int result = vips_flatten(IMAGE(in), OUT(out), "background", array, NULL);
    vips_area_unref(VIPS_AREA(array));
    return result;
}

int vs_text(const char *text, const char *font, int dpi, vs_image **out) {
    return vips_text(OUT(out), text, "font", font, "dpi", dpi, NULL);
}

/* Rows computed at a time when a deadline is checked between strips. */
#define STRIP_ROWS 64

/* Computes `in` strip by strip on this thread, copying each strip out, and stops between strips once `deadline`
   (monotonic microseconds) has passed. With a sequentially loaded source the decoder itself stops there. */
static int write_strips(VipsImage *in, void *destination, gint64 deadline, int *timed_out) {
    VipsRegion *region = vips_region_new(in);
    if (region == NULL) {
        return -1;
    }
    size_t line = VIPS_IMAGE_SIZEOF_LINE(in);
    int result = 0;
    for (int y = 0; y < in->Ysize; y += STRIP_ROWS) {
        if (g_get_monotonic_time() > deadline) {
            *timed_out = 1;
            vips_error("vs_write_pixels", "stopped at row %d of %d: over the time limit", y, in->Ysize);
            result = -1;
            break;
        }
        VipsRect strip = {0, y, in->Xsize, VIPS_MIN(STRIP_ROWS, in->Ysize - y)};
        if (vips_region_prepare(region, &strip) != 0) {
            result = -1;
            break;
        }
        for (int row = 0; row < strip.height; row++) {
            memcpy((char *) destination + (size_t) (y + row) * line, VIPS_REGION_ADDR(region, 0, y + row), line);
        }
    }
    g_object_unref(region);
    return result;
}

int vs_write_pixels(vs_image *image, void *destination, size_t capacity, double seconds, int *timed_out) {
    VipsImage *in = IMAGE(image);
    *timed_out = 0;
    if (VIPS_IMAGE_SIZEOF_IMAGE(in) != capacity) {
        vips_error("vs_write_pixels", "image has %zu bytes, destination holds %zu",
                   (size_t) VIPS_IMAGE_SIZEOF_IMAGE(in), capacity);
        return -1;
    }
    if (seconds > 0) {
        return write_strips(in, destination, g_get_monotonic_time() + (gint64) (seconds * 1e6), timed_out);
    }
    /* What vips_image_write_to_memory does, into the caller's buffer instead of a new one: libvips' thread pool. */
    VipsImage *target = vips_image_new_from_memory(destination, capacity, in->Xsize, in->Ysize, in->Bands, in->BandFmt);
    if (target == NULL) {
        return -1;
    }
    int result = vips_image_write(in, target);
    g_object_unref(target);
    return result;
}

void vs_release(vs_image *image) { g_object_unref(IMAGE(image)); }

char *vs_take_error(void) { return vips_error_buffer_copy(); }
void vs_free(void *memory) { g_free(memory); }

int vs_image_from_pixels(const void *pixels, size_t length, int width, int height, int bands, vs_image **out) {
    *OUT(out) = vips_image_new_from_memory_copy(pixels, length, width, height, bands, VIPS_FORMAT_UCHAR);
    return *OUT(out) == NULL ? -1 : 0;
}

void vs_set_int(vs_image *image, const char *name, int value) {
    vips_image_set_int(IMAGE(image), name, value);
}

int vs_save_jpeg(vs_image *image, int quality, void **buffer, size_t *length) {
    return vips_jpegsave_buffer(IMAGE(image), buffer, length, "Q", quality, NULL);
}

int vs_save_png(vs_image *image, void **buffer, size_t *length) {
    return vips_pngsave_buffer(IMAGE(image), buffer, length, NULL);
}

int vs_save_gif(vs_image *image, void **buffer, size_t *length) {
    return vips_gifsave_buffer(IMAGE(image), buffer, length, NULL);
}

int vs_save_webp_lossless(vs_image *image, void **buffer, size_t *length) {
    return vips_webpsave_buffer(IMAGE(image), buffer, length, "lossless", TRUE, NULL);
}

int vs_rot(vs_image *in, int quarter_turns, vs_image **out) {
    /* VipsAngle counts quarter turns clockwise: VIPS_ANGLE_D90 is 1, D180 2, D270 3. */
    return vips_rot(IMAGE(in), OUT(out), (VipsAngle) quarter_turns, NULL);
}

int vs_flip(vs_image *in, int vertical, vs_image **out) {
    return vips_flip(IMAGE(in), OUT(out), vertical ? VIPS_DIRECTION_VERTICAL : VIPS_DIRECTION_HORIZONTAL, NULL);
}

int vs_affine(vs_image *in, double a, double b, double c, double d, double idx, double idy, double odx, double ody,
              int width, int height, const char *interpolator, double background, vs_image **out) {
    VipsInterpolate *interpolate = vips_interpolate_new(interpolator);
    if (interpolate == NULL) {
        return -1;
    }
    double backgrounds[3] = {background, background, background};
    VipsArrayDouble *background_array = vips_array_double_new(backgrounds, 3);
    VipsArrayInt *area = vips_array_int_newv(4, 0, 0, width, height);
    int result = vips_affine(IMAGE(in), OUT(out), a, b, c, d, "interpolate", interpolate,
                             "background", background_array, "oarea", area,
                             "idx", idx, "idy", idy, "odx", odx, "ody", ody, NULL);
    vips_area_unref(VIPS_AREA(area));
    vips_area_unref(VIPS_AREA(background_array));
    g_object_unref(interpolate);
    return result;
}

int vs_invert(vs_image *in, vs_image **out) {
    return vips_invert(IMAGE(in), OUT(out), NULL);
}

int vs_linear(vs_image *in, const double *a, const double *b, int count, int to_uchar, vs_image **out) {
    return vips_linear(IMAGE(in), OUT(out), (double *) a, (double *) b, count, "uchar", to_uchar ? TRUE : FALSE, NULL);
}

int vs_srgb_to_lch(vs_image *in, vs_image **out) {
    return vips_colourspace(IMAGE(in), OUT(out), VIPS_INTERPRETATION_LCH,
                            "source_space", VIPS_INTERPRETATION_sRGB, NULL);
}

int vs_gaussblur(vs_image *in, double sigma, vs_image **out) {
    return vips_gaussblur(IMAGE(in), OUT(out), sigma, "precision", VIPS_PRECISION_FLOAT, NULL);
}

int vs_convolve_row(vs_image *in, const double *coefficients, int count, double scale, vs_image **out) {
    VipsImage *mask = vips_image_new_matrix_from_array(count, 1, coefficients, count);
    if (mask == NULL) {
        return -1;
    }
    vips_image_set_double(mask, "scale", scale);
    int result = vips_conv(IMAGE(in), OUT(out), mask, "precision", VIPS_PRECISION_FLOAT, NULL);
    g_object_unref(mask);
    return result;
}

int vs_rank(vs_image *in, int width, int height, int index, vs_image **out) {
    return vips_rank(IMAGE(in), OUT(out), width, height, index, NULL);
}

int vs_sobel(vs_image *in, vs_image **out) {
    return vips_sobel(IMAGE(in), OUT(out), NULL);
}
