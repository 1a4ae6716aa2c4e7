#include "cvideo.h"
#include "internal.h"

struct cv_writer {
    AVFormatContext *format;
    AVCodecContext *codec;
    AVStream *stream;
    struct SwsContext *scale;
    AVFrame *frame;
    AVPacket *packet;
    int width, height;      // of the RGB frames handed in
    int64_t next_pts;
    int header_written;
};

// Sends one frame (NULL: flush) and writes every packet the encoder gives back.
static int encode(cv_writer *w, AVFrame *frame, char *error, int error_size) {
    int rc = avcodec_send_frame(w->codec, frame);
    if (rc < 0) { cv_av_error(error, error_size, rc); return -1; }
    for (;;) {
        rc = avcodec_receive_packet(w->codec, w->packet);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
        if (rc < 0) { cv_av_error(error, error_size, rc); return -1; }
        // One frame long: without a duration the MP4 muxer gives the last frame none, and its edit
        // list then ends before that frame, which decoders drop.
        if (w->packet->duration <= 0) w->packet->duration = 1;
        av_packet_rescale_ts(w->packet, w->codec->time_base, w->stream->time_base);
        w->packet->stream_index = w->stream->index;
        rc = av_interleaved_write_frame(w->format, w->packet);
        av_packet_unref(w->packet);
        if (rc < 0) { cv_av_error(error, error_size, rc); return -1; }
    }
}

static const AVCodec *choose_encoder(const AVOutputFormat *container) {
    const AVCodec *h264 = avcodec_find_encoder_by_name("libx264");
    if (h264 && avformat_query_codec(container, AV_CODEC_ID_H264, FF_COMPLIANCE_NORMAL) == 1) return h264;
    const AVCodec *mpeg4 = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (mpeg4 && avformat_query_codec(container, AV_CODEC_ID_MPEG4, FF_COMPLIANCE_NORMAL) == 1) return mpeg4;
    return container->video_codec != AV_CODEC_ID_NONE ? avcodec_find_encoder(container->video_codec) : NULL;
}

cv_writer *cv_writer_open(const char *path, const char *temporary_path, int width, int height, double fps,
                          char *error, int error_size) {
    cv_install_log_callback();
    cv_clear_log_line();
    cv_writer *w = calloc(1, sizeof *w);
    if (!w) { cv_set_error(error, error_size, "out of memory"); return NULL; }
    w->width = width;
    w->height = height;
    int rc = avformat_alloc_output_context2(&w->format, NULL, NULL, path);
    if (rc < 0 || !w->format) {
        cv_set_error(error, error_size, "no container format for its extension (use .mp4, .mkv or .avi)");
        free(w);
        return NULL;
    }
    const AVCodec *encoder = choose_encoder(w->format->oformat);
    if (!encoder) { cv_set_error(error, error_size, "no video encoder for this container"); goto fail; }
    w->stream = avformat_new_stream(w->format, NULL);
    w->codec = avcodec_alloc_context3(encoder);
    w->frame = av_frame_alloc();
    w->packet = av_packet_alloc();
    if (!w->stream || !w->codec || !w->frame || !w->packet) { cv_set_error(error, error_size, "out of memory"); goto fail; }
    // 4:2:0 needs even sizes: an odd row or column is dropped by the scaler.
    w->codec->width = width & ~1;
    w->codec->height = height & ~1;
    if (w->codec->width == 0 || w->codec->height == 0) { cv_set_error(error, error_size, "frames too small to encode"); goto fail; }
    AVRational rate = av_d2q(fps > 0 ? fps : 25, 1001000);
    w->codec->time_base = av_inv_q(rate);
    w->codec->framerate = rate;
    w->stream->time_base = w->codec->time_base;
    w->codec->pix_fmt = AV_PIX_FMT_YUV420P;
    w->codec->gop_size = 12;
    if (encoder->id == AV_CODEC_ID_H264) {
        av_opt_set(w->codec->priv_data, "preset", "veryfast", 0);   // keeps pace with inference on a few cores
        av_opt_set(w->codec->priv_data, "crf", "20", 0);
    } else {
        w->codec->bit_rate = (int64_t)w->codec->width * w->codec->height * 6;
    }
    if (w->format->oformat->flags & AVFMT_GLOBALHEADER) w->codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(w->codec, encoder, NULL)) < 0 ||
        (rc = avcodec_parameters_from_context(w->stream->codecpar, w->codec)) < 0) {
        cv_av_error(error, error_size, rc);
        goto fail;
    }
    w->frame->format = w->codec->pix_fmt;
    w->frame->width = w->codec->width;
    w->frame->height = w->codec->height;
    if ((rc = av_frame_get_buffer(w->frame, 0)) < 0) { cv_av_error(error, error_size, rc); goto fail; }
    w->scale = sws_getContext(w->codec->width, w->codec->height, AV_PIX_FMT_RGB24, w->codec->width, w->codec->height,
                              AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
    if (!w->scale) { cv_set_error(error, error_size, "cannot convert RGB to YUV 4:2:0"); goto fail; }
    if ((rc = avio_open(&w->format->pb, temporary_path, AVIO_FLAG_WRITE)) < 0) { cv_av_error(error, error_size, rc); goto fail; }
    if ((rc = avformat_write_header(w->format, NULL)) < 0) { cv_av_error(error, error_size, rc); goto fail; }
    w->header_written = 1;
    return w;
fail:
    cv_writer_close(w);
    return NULL;
}

const char *cv_writer_codec(const cv_writer *w) { return w->codec->codec->name; }

int cv_writer_write(cv_writer *w, const uint8_t *rgb, char *error, int error_size) {
    int rc = av_frame_make_writable(w->frame);
    if (rc < 0) { cv_av_error(error, error_size, rc); return -1; }
    const uint8_t *planes[1] = {rgb};
    int strides[1] = {3 * w->width};
    sws_scale(w->scale, planes, strides, 0, w->codec->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->next_pts++;
    return encode(w, w->frame, error, error_size);
}

int cv_writer_finish(cv_writer *w, char *error, int error_size) {
    if (encode(w, NULL, error, error_size) < 0) return -1;
    int rc = av_write_trailer(w->format);
    if (rc < 0) { cv_av_error(error, error_size, rc); return -1; }
    w->header_written = 0;
    if ((rc = avio_closep(&w->format->pb)) < 0) { cv_av_error(error, error_size, rc); return -1; }
    return 0;
}

void cv_writer_close(cv_writer *w) {
    if (!w) return;
    if (w->format && w->format->pb) avio_closep(&w->format->pb);
    sws_freeContext(w->scale);
    av_frame_free(&w->frame);
    av_packet_free(&w->packet);
    avcodec_free_context(&w->codec);
    avformat_free_context(w->format);
    free(w);
}
