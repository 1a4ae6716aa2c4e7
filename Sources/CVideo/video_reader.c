#include "cvideo.h"
#include "internal.h"

#include <libavdevice/avdevice.h>

struct cv_reader {
    AVFormatContext *format;
    AVCodecContext *codec;
    struct SwsContext *scale;
    AVFrame *frame;
    AVPacket *packet;
    int stream;
    int draining;
    int64_t frames, bad_packets;
    char first_bad[256];
};

cv_reader *cv_reader_open(const char *path, int camera, char *error, int error_size) {
    cv_install_log_callback();   // FFmpeg's error lines go into our messages, not onto the terminal
    cv_clear_log_line();
    cv_reader *r = calloc(1, sizeof *r);
    if (!r) { cv_set_error(error, error_size, "out of memory"); return NULL; }
    const AVInputFormat *input = NULL;
    if (camera) {
        avdevice_register_all();
        input = av_find_input_format("video4linux2");
        if (!input) { cv_set_error(error, error_size, "this FFmpeg has no video4linux2 input"); free(r); return NULL; }
    }
    int rc = avformat_open_input(&r->format, path, input, NULL);
    if (rc < 0) { cv_av_error(error, error_size, rc); free(r); return NULL; }
    if ((rc = avformat_find_stream_info(r->format, NULL)) < 0) { cv_av_error(error, error_size, rc); goto fail; }
    const AVCodec *decoder = NULL;
    r->stream = av_find_best_stream(r->format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (r->stream < 0) {
        cv_set_error(error, error_size, r->stream == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video stream"
                                                                                : "no video stream in it");
        goto fail;
    }
    r->codec = avcodec_alloc_context3(decoder);
    if (!r->codec) { cv_set_error(error, error_size, "out of memory"); goto fail; }
    if ((rc = avcodec_parameters_to_context(r->codec, r->format->streams[r->stream]->codecpar)) < 0 ||
        (rc = avcodec_open2(r->codec, decoder, NULL)) < 0) {
        cv_av_error(error, error_size, rc);
        goto fail;
    }
    if (r->codec->width <= 0 || r->codec->height <= 0) { cv_set_error(error, error_size, "its video stream has no frame size"); goto fail; }
    r->frame = av_frame_alloc();
    r->packet = av_packet_alloc();
    if (!r->frame || !r->packet) { cv_set_error(error, error_size, "out of memory"); goto fail; }
    return r;
fail:
    cv_reader_close(r);
    return NULL;
}

int cv_reader_width(const cv_reader *r) { return r->codec->width; }
int cv_reader_height(const cv_reader *r) { return r->codec->height; }
const char *cv_reader_codec(const cv_reader *r) { return r->codec->codec->name; }
int64_t cv_reader_skipped_packets(const cv_reader *r) { return r->bad_packets; }
const char *cv_reader_skip_reason(const cv_reader *r) { return r->first_bad; }

double cv_reader_fps(const cv_reader *r) {
    AVRational rate = av_guess_frame_rate(r->format, r->format->streams[r->stream], NULL);
    return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
}

int64_t cv_reader_frame_count(const cv_reader *r) {
    const AVStream *s = r->format->streams[r->stream];
    if (s->nb_frames > 0) return s->nb_frames;
    double fps = cv_reader_fps(r);
    if (r->format->duration > 0 && fps > 0) return (int64_t)(r->format->duration / (double)AV_TIME_BASE * fps + 0.5);
    return 0;
}

// Converts the decoded frame to packed RGB24 at the stream's size.
static int to_rgb(cv_reader *r, uint8_t *rgb, char *error, int error_size) {
    r->scale = sws_getCachedContext(r->scale, r->frame->width, r->frame->height, r->frame->format, r->codec->width,
                                    r->codec->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    if (!r->scale) { cv_set_error(error, error_size, "cannot convert its pixel format to RGB"); return -1; }
    uint8_t *planes[1] = {rgb};
    int strides[1] = {3 * r->codec->width};
    sws_scale(r->scale, (const uint8_t *const *)r->frame->data, r->frame->linesize, 0, r->frame->height, planes, strides);
    av_frame_unref(r->frame);
    return 1;
}

int cv_reader_next(cv_reader *r, uint8_t *rgb, char *error, int error_size) {
    for (;;) {
        int rc = avcodec_receive_frame(r->codec, r->frame);
        if (rc == 0) { r->frames++; return to_rgb(r, rgb, error, error_size); }
        // A damaged packet is skipped, as FFmpeg's own tools do, and counted; a stream of which
        // nothing decodes is an error at its end.
        if (rc == AVERROR_INVALIDDATA) {
            if (r->bad_packets++ == 0) cv_av_error(r->first_bad, sizeof r->first_bad, rc);
        } else if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) {
            cv_av_error(error, error_size, rc);
            return -1;
        }
        if (rc == AVERROR_EOF || r->draining) {
            if (r->frames == 0 && r->bad_packets > 0) { cv_set_error(error, error_size, r->first_bad); return -1; }
            return 0;
        }
        rc = av_read_frame(r->format, r->packet);
        if (rc == AVERROR_EOF) {
            r->draining = 1;
            avcodec_send_packet(r->codec, NULL);   // the frames still inside come out on the next turns
            continue;
        }
        if (rc < 0) { cv_av_error(error, error_size, rc); return -1; }
        if (r->packet->stream_index == r->stream) {
            rc = avcodec_send_packet(r->codec, r->packet);
            av_packet_unref(r->packet);
            if (rc == AVERROR_INVALIDDATA) {
                if (r->bad_packets++ == 0) cv_av_error(r->first_bad, sizeof r->first_bad, rc);
            } else if (rc < 0 && rc != AVERROR(EAGAIN)) {
                cv_av_error(error, error_size, rc);
                return -1;
            }
        } else {
            av_packet_unref(r->packet);
        }
    }
}

void cv_reader_close(cv_reader *r) {
    if (!r) return;
    sws_freeContext(r->scale);
    av_frame_free(&r->frame);
    av_packet_free(&r->packet);
    avcodec_free_context(&r->codec);
    avformat_close_input(&r->format);
    free(r);
}
