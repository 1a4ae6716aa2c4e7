#ifndef CVIDEO_H
#define CVIDEO_H

#include <stdint.h>

// Video in and out through FFmpeg's libraries: frames as packed RGB24, errors as FFmpeg's own words
// in the caller's buffer.

typedef struct cv_reader cv_reader;
typedef struct cv_writer cv_writer;

// Opens a file, or a camera (a /dev/video* path through v4l2; `camera` 1). NULL on failure.
cv_reader *cv_reader_open(const char *path, int camera, char *error, int error_size);
int cv_reader_width(const cv_reader *r);
int cv_reader_height(const cv_reader *r);
// Frames per second of the stream (0 when unknown).
double cv_reader_fps(const cv_reader *r);
// The frame count the container declares, or an estimate from its duration; 0 when unknown.
int64_t cv_reader_frame_count(const cv_reader *r);
const char *cv_reader_codec(const cv_reader *r);
// The next frame into rgb (width x height x 3 bytes): 1 a frame, 0 the end, -1 an error.
int cv_reader_next(cv_reader *r, uint8_t *rgb, char *error, int error_size);
// Damaged packets skipped so far, and FFmpeg's reason for the first.
int64_t cv_reader_skipped_packets(const cv_reader *r);
const char *cv_reader_skip_reason(const cv_reader *r);
void cv_reader_close(cv_reader *r);

// An encoder for `path` (container from the extension): H.264 (libx264) where the container takes
// it and the encoder exists, else MPEG-4 part 2. The file is written at `temporary_path` until
// cv_writer_finish. NULL on failure.
cv_writer *cv_writer_open(const char *path, const char *temporary_path, int width, int height, double fps,
                          char *error, int error_size);
const char *cv_writer_codec(const cv_writer *w);
int cv_writer_write(cv_writer *w, const uint8_t *rgb, char *error, int error_size);
// Flushes the encoder and writes the trailer: 0, or -1 with the error.
int cv_writer_finish(cv_writer *w, char *error, int error_size);
void cv_writer_close(cv_writer *w);

#endif
