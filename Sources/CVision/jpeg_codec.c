// JPEG through libjpeg-turbo: baseline, progressive, greyscale, CMYK/YCCK -> RGB, EXIF orientation.
#include "cvision.h"
#include <stdio.h>  // jpeglib.h needs FILE
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf escape;
    char *message;
    size_t message_size;
} error_handler;

static void on_error(j_common_ptr cinfo) {
    error_handler *h = (error_handler *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(h->message, h->message_size, "%s", text);
    longjmp(h->escape, 1);
}

// Warnings (e.g. "premature end of data") are treated as errors: a truncated file must not
// silently train on grey padding.
static void on_warning(j_common_ptr cinfo, int level) {
    if (level < 0) on_error(cinfo);
}

static uint16_t read16(const uint8_t *p, int little) { return little ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t read32(const uint8_t *p, int little) {
    return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

// Orientation tag 0x0112 of IFD0 in an APP1 "Exif\0\0" segment; 1 when absent or malformed.
static int exif_orientation(const uint8_t *data, unsigned length) {
    if (length < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *tiff = data + 6;
    unsigned size = length - 6;
    int little = tiff[0] == 'I';
    if (!little && tiff[0] != 'M') return 1;
    uint32_t ifd = read32(tiff + 4, little);
    if (ifd + 2 > size) return 1;
    unsigned entries = read16(tiff + ifd, little);
    for (unsigned i = 0; i < entries; i++) {
        unsigned at = ifd + 2 + i * 12;
        if (at + 12 > size) return 1;
        if (read16(tiff + at, little) == 0x0112) {
            unsigned value = read16(tiff + at + 8, little);
            return value >= 1 && value <= 8 ? (int)value : 1;
        }
    }
    return 1;
}

int cv_decode_jpeg(const uint8_t *data, size_t size, cv_decoded *out) {
    memset(out, 0, sizeof *out);
    out->orientation = 1;
    struct jpeg_decompress_struct cinfo;
    error_handler err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error;
    err.base.emit_message = on_warning;
    err.message = out->error;
    err.message_size = sizeof out->error;
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    if (setjmp(err.escape)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1) out->orientation = exif_orientation(m->data, m->data_length);
    out->source_channels = cinfo.num_components;
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    pixels = malloc((size_t)w * h * 3);
    row = malloc((size_t)w * 4);
    if (!pixels || !row) {
        snprintf(out->error, sizeof out->error, "out of memory for a %dx%d image", w, h);
        jpeg_destroy_decompress(&cinfo);
        free(pixels); free(row);
        return 1;
    }
    // Adobe writes CMYK inverted (0 = full ink); others store it plainly.
    int inverted = cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
        int y = (int)cinfo.output_scanline;
        if (!cmyk) {
            JSAMPROW dst = pixels + (size_t)y * w * 3;
            jpeg_read_scanlines(&cinfo, &dst, 1);
        } else {
            JSAMPROW src = row;
            jpeg_read_scanlines(&cinfo, &src, 1);
            uint8_t *dst = pixels + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) {
                int c = row[4 * x], m = row[4 * x + 1], ye = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; ye = 255 - ye; k = 255 - k; }
                dst[3 * x] = (uint8_t)((c * k + 127) / 255);
                dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                dst[3 * x + 2] = (uint8_t)((ye * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->width = w;
    out->height = h;
    out->pixels = pixels;
    return 0;
}

int cv_encode_jpeg(const uint8_t *rgb, int width, int height, int quality, uint8_t **out, size_t *out_size,
                   char *error, size_t error_size) {
    struct jpeg_compress_struct cinfo;
    error_handler err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error;
    err.message = error;
    err.message_size = error_size;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    if (setjmp(err.escape)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&cinfo);
    unsigned char *mem = NULL;
    jpeg_mem_dest(&cinfo, &mem, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW r = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * width * 3);
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = mem;
    *out_size = buffer_size;
    return 0;
}

void cv_free(void *p) { free(p); }
