// OpenCV's 8-bit RGB <-> HSV conversions (hue 0-179) and the reference's HSV jitter.
#include "cvision.h"
#include <math.h>
#include <pthread.h>
#include <string.h>

// Fixed-point reciprocals with 12 fractional bits, rounded, as OpenCV tabulates them.
static int sdiv_table[256], hdiv_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void make_tables(void) {
    for (int i = 1; i < 256; i++) {
        sdiv_table[i] = (int)lround(255.0 * 4096.0 / i);
        hdiv_table[i] = (int)lround(180.0 * 4096.0 / (6.0 * i));
    }
}

void cv_rgb_to_hsv(const uint8_t *rgb, uint8_t *hsv, int64_t pixels) {
    pthread_once(&tables_once, make_tables);
    for (int64_t i = 0; i < pixels; i++) {
        int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        int v = r > g ? (r > b ? r : b) : (g > b ? g : b);
        int vmin = r < g ? (r < b ? r : b) : (g < b ? g : b);
        int diff = v - vmin;
        int s = (diff * sdiv_table[v] + (1 << 11)) >> 12;
        int h = 0;
        if (diff != 0) {
            h = v == r ? g - b : (v == g ? b - r + 2 * diff : r - g + 4 * diff);
            h = (h * hdiv_table[diff] + (1 << 11)) >> 12;
            if (h < 0) h += 180;
        }
        hsv[3 * i] = (uint8_t)h;
        hsv[3 * i + 1] = (uint8_t)s;
        hsv[3 * i + 2] = (uint8_t)v;
    }
}

static inline uint8_t saturate(float v) { int x = (int)lrintf(v); return x < 0 ? 0 : (x > 255 ? 255 : (uint8_t)x); }

__attribute__((target_clones("avx2", "default"))) void cv_hsv_to_rgb(const uint8_t *hsv, uint8_t *rgb, int64_t pixels) {
    static const int sector_data[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1}, {0, 2, 1}, {0, 1, 3}, {2, 1, 0}};
    for (int64_t i = 0; i < pixels; i++) {
        float h = hsv[3 * i] * (6.0f / 180.0f), s = hsv[3 * i + 1] * (1.0f / 255.0f), v = hsv[3 * i + 2] * (1.0f / 255.0f);
        float r, g, b;
        if (s == 0) {
            r = g = b = v;
        } else {
            int sector = (int)h;   // h in [0, 6): hue bytes stay below 180
            if (sector > 5) sector = 5;
            h -= sector;
            float tab[4] = {v, v * (1 - s), v * (1 - s * h), v * (1 - s * (1 - h))};
            b = tab[sector_data[sector][0]];
            g = tab[sector_data[sector][1]];
            r = tab[sector_data[sector][2]];
        }
        rgb[3 * i] = saturate(r * 255);
        rgb[3 * i + 1] = saturate(g * 255);
        rgb[3 * i + 2] = saturate(b * 255);
    }
}

void cv_hsv_jitter(uint8_t *rgb, int64_t pixels, float rh, float rs, float rv) {
    uint8_t lut_h[256], lut_s[256], lut_v[256];
    for (int x = 0; x < 256; x++) {
        // numpy: (x * r) % 180 (floored modulo of a float), then cast to uint8.
        float hue = fmodf(x * rh, 180.0f);
        if (hue < 0) hue += 180.0f;
        lut_h[x] = (uint8_t)hue;
        float s = x * rs, v = x * rv;
        lut_s[x] = (uint8_t)(s < 0 ? 0 : (s > 255 ? 255 : s));
        lut_v[x] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    enum { CHUNK = 4096 };
    uint8_t hsv[CHUNK * 3];
    for (int64_t start = 0; start < pixels; start += CHUNK) {
        int64_t n = pixels - start < CHUNK ? pixels - start : CHUNK;
        uint8_t *p = rgb + start * 3;
        cv_rgb_to_hsv(p, hsv, n);
        for (int64_t i = 0; i < n; i++) {
            hsv[3 * i] = lut_h[hsv[3 * i]];
            hsv[3 * i + 1] = lut_s[hsv[3 * i + 1]];
            hsv[3 * i + 2] = lut_v[hsv[3 * i + 2]];
        }
        cv_hsv_to_rgb(hsv, p, n);
    }
}
