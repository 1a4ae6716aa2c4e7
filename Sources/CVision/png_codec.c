// PNG through libpng: 1-16 bit, palette, grey, grey+alpha, RGBA, interlaced.
#include "cvision.h"
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const uint8_t *data; size_t size, offset; } png_source;

static void read_from_memory(png_structp png, png_bytep out, png_size_t length) {
    png_source *src = png_get_io_ptr(png);
    if (src->offset + length > src->size) png_error(png, "unexpected end of file (truncated)");
    memcpy(out, src->data + src->offset, length);
    src->offset += length;
}

static void on_png_error(png_structp png, png_const_charp message) {
    cv_decoded *out = png_get_error_ptr(png);
    snprintf(out->error, sizeof out->error, "%s", message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

// The classic API keeps samples as stored: 16-bit reduces to its high byte (no gamma
// conversion, unlike the simplified API), palettes and grey expand to RGB, alpha is dropped
// (as PIL's convert("RGB") does).
int cv_decode_png(const uint8_t *data, size_t size, cv_decoded *out) {
    memset(out, 0, sizeof *out);
    out->orientation = 1;
    if (size < 8 || png_sig_cmp(data, 0, 8)) { snprintf(out->error, sizeof out->error, "not a PNG file"); return 1; }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        snprintf(out->error, sizeof out->error, "out of memory");
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        return 1;
    }
    png_source src = {data, size, 0};
    png_set_read_fn(png, &src, read_from_memory);
    png_read_info(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    out->source_channels = png_get_channels(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int w = (int)png_get_image_width(png, info), h = (int)png_get_image_height(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unsupported PNG layout");
    pixels = malloc((size_t)w * h * 3);
    rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (int y = 0; y < h; y++) rows[y] = pixels + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->width = w;
    out->height = h;
    out->pixels = pixels;
    return 0;
}

int cv_encode_png(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *out_size, char *error,
                  size_t error_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, rgb, 0, NULL)) {
        snprintf(error, error_size, "%s", image.message);
        return 1;
    }
    uint8_t *buffer = malloc(size);
    if (!buffer) { snprintf(error, error_size, "out of memory"); return 1; }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, rgb, 0, NULL)) {
        snprintf(error, error_size, "%s", image.message);
        free(buffer);
        return 1;
    }
    *out = buffer;
    *out_size = size;
    return 0;
}
