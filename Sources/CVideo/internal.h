#ifndef CVIDEO_INTERNAL_H
#define CVIDEO_INTERNAL_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void cv_set_error(char *error, int size, const char *message) {
    if (error && size > 0) snprintf(error, size, "%s", message);
}

static inline void cv_av_error(char *error, int size, int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, text, sizeof text);
    cv_set_error(error, size, text);
}

#endif
