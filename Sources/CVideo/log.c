#include "internal.h"

#include <pthread.h>

static _Thread_local char last_line[256];

const char *cv_last_log_line(void) { return last_line; }
void cv_clear_log_line(void) { last_line[0] = 0; }

static void keep_errors(void *context, int level, const char *format, va_list arguments) {
    if (level > AV_LOG_ERROR) return;
    char line[256];
    int prefix = 0;
    av_log_format_line2(context, level, format, arguments, line, sizeof line, &prefix);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ')) line[--n] = 0;
    // Without the "[mov,mp4,... @ 0x...]" part: the message already names the file.
    const char *text = line;
    if (line[0] == '[') {
        const char *end = strstr(line, "] ");
        if (end) text = end + 2;
    }
    if (text[0]) snprintf(last_line, sizeof last_line, "%s", text);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void install(void) { av_log_set_callback(keep_errors); }
void cv_install_log_callback(void) { pthread_once(&once, install); }
