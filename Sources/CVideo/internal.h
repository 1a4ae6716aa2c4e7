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

// FFmpeg's own last error line on this thread (e.g. "moov atom not found"), kept by a log callback
// instead of printed, so that it can go into the one message the tool prints.
const char *cv_last_log_line(void);
void cv_clear_log_line(void);
void cv_install_log_callback(void);

static inline void cv_av_error(char *error, int size, int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, text, sizeof text);
    const char *detail = cv_last_log_line();
    if (error && size > 0) {
        if (detail[0]) snprintf(error, size, "%s: %s", text, detail);
        else snprintf(error, size, "%s", text);
    }
    cv_clear_log_line();
}

#endif
